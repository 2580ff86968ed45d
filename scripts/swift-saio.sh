#!/bin/bash
# Single-node OpenStack Swift ("SAIO") on loopback for tests: no root services, no loop
# device, nothing under /etc. The proxy also speaks S3 through the s3api middleware.
#   swift-saio.sh start DIR [PROXY_PORT]   -> writes DIR/pids, exits 0 once auth answers
#   swift-saio.sh stop DIR                 -> kills exactly the PIDs in DIR/pids
# Ports used: PROXY_PORT, +120 (object), +121 (container), +122 (account), +3131 (memcached).
# Credentials: Swift v1 auth test:tester / testing at http://127.0.0.1:PORT/auth/v1.0;
# S3 access key test:tester, secret testing, path-style, region us-east-1.
# Needs the Debian packages listed in scripts/ci-packages.txt.
set -euo pipefail
CMD=${1:?usage: swift-saio.sh start|stop DIR [PORT]}
BASE=${2:?base dir}

stop() {
  [ -f "$BASE/pids" ] || return 0
  while read -r p; do kill "$p" 2>/dev/null || true; done < "$BASE/pids"
  sleep 0.5
  while read -r p; do kill -9 "$p" 2>/dev/null || true; done < "$BASE/pids"
  rm -f "$BASE/pids"
}

if [ "$CMD" = stop ]; then stop; exit 0; fi
[ "$CMD" = start ] || { echo "unknown command $CMD" >&2; exit 2; }

PPORT=${3:-18080}
APORT=$((PPORT+122)); CPORT=$((PPORT+121)); OPORT=$((PPORT+120)); MPORT=$((PPORT+3131))
rm -rf "$BASE"; mkdir -p "$BASE"/{etc,srv/node/d1,log,run}
E=$BASE/etc
cat > "$E/swift.conf" <<EOC
[swift-hash]
swift_hash_path_suffix = saio-test
swift_hash_path_prefix = saio-test
[storage-policy:0]
name = gold
default = yes
EOC
common() { cat <<EOC
[DEFAULT]
swift_dir = $E
devices = $BASE/srv/node
mount_check = false
disable_fallocate = true
bind_ip = 127.0.0.1
bind_port = $1
workers = 0
user = $(id -un)
log_udp_host = 127.0.0.1
log_udp_port = 9
EOC
}
{ common $OPORT; printf '[pipeline:main]\npipeline = object-server\n[app:object-server]\nuse = egg:swift#object\n[object-replicator]\n[object-updater]\n[object-auditor]\n'; } > "$E/object-server.conf"
{ common $CPORT; printf '[pipeline:main]\npipeline = container-server\n[app:container-server]\nuse = egg:swift#container\n[container-replicator]\n[container-updater]\n[container-auditor]\n[container-sync]\n'; } > "$E/container-server.conf"
{ common $APORT; printf '[pipeline:main]\npipeline = account-server\n[app:account-server]\nuse = egg:swift#account\n[account-replicator]\n[account-auditor]\n[account-reaper]\n'; } > "$E/account-server.conf"
{ common $PPORT; cat <<EOC
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
allow_account_management = true
account_autocreate = true
[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin
[filter:s3api]
use = egg:swift#s3api
# Bulk delete (POST ?bulk-delete), which pixproxy's purges use when /info lists it.
[filter:bulk]
use = egg:swift#bulk
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MPORT
# Swift's defaults (2 connections, 0.3 s to connect, 1 s to get one from the pool, and memcached
# taken for dead for 60 s after 10 errors in 60 s) fail a loaded test machine: a burst of
# concurrent requests timed out on the pool, memcached was then "dead" and every token request
# answered 503 for a minute (tempauth keeps its tokens there).
memcache_max_connections = 32
connect_timeout = 5
pool_timeout = 30
io_timeout = 30
error_suppression_limit = 100000
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
# Object versioning, so S3 version ids (PutBucketVersioning through s3api) can be tested.
[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = true
allow_object_versioning = true
# object versioning is built on symlinks
[filter:symlink]
use = egg:swift#symlink
EOC
} > "$E/proxy-server.conf"
# Debian's python has the swift modules; a pyenv python3 earlier on PATH would not.
/usr/bin/python3 - "$E" $OPORT $CPORT $APORT <<'PY'
import sys
from swift.common.ring import RingBuilder
e, ports = sys.argv[1], dict(zip(['object', 'container', 'account'], sys.argv[2:5]))
for name, port in ports.items():
    b = RingBuilder(6, 1, 1)
    b.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': int(port), 'device': 'd1', 'weight': 1})
    b.rebalance()
    b.get_ring().save('%s/%s.ring.gz' % (e, name))
PY
: > "$BASE/pids"
MU=""; [ "$(id -u)" = 0 ] && MU="-u root"   # memcached refuses to run as root without -u
# tempauth keeps its tokens in memcached, so it is not optional.
memcached -l 127.0.0.1 -p $MPORT -U 0 -m 64 $MU > "$BASE/log/memcached.log" 2>&1 & echo $! >> "$BASE/pids"
for s in object container account proxy; do
  swift-$s-server "$E/$s-server.conf" -v > "$BASE/log/$s.log" 2>&1 & echo $! >> "$BASE/pids"
done
# /healthcheck only proves the proxy is up; a successful auth proves memcached is too.
for _ in $(seq 1 300); do
  if curl -fsS -o /dev/null -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' "http://127.0.0.1:$PPORT/auth/v1.0" 2>/dev/null; then
    echo "swift proxy ready on $PPORT"; exit 0; fi
  sleep 0.1
done
echo "swift did not start" >&2; tail -n 20 "$BASE"/log/*.log >&2; stop; exit 1
