-- wrk request generator: paths from a pattern (see bench/lib/pattern.ts, same rules).
-- args: pattern, mode (seq|cycle|rand), base-or-k, sources ("name:ext,name:ext")
--   seq:   n = base + tid * 50000 + counter   (every request a new, unique n)
--   cycle: n = counter % k
--   rand:  n = uniform random in [0, k)
-- Placeholders: {n} {w} {h} {src} {ext} {i}; {w} = {h} = 100 + n % 900 (a square box, not
-- unique per n: the driver's seq bases are multiples of 900, so every run gets the same boxes).

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local pattern, mode, base, k
local sources = {}
local counter = 0

function init(args)
  pattern = args[1]
  mode = args[2] or "seq"
  base = tonumber(args[3]) or 0
  k = base
  for item in string.gmatch(args[4] or "", "[^,]+") do
    local name, ext = string.match(item, "([^:]+):(.+)")
    table.insert(sources, { name = name, ext = ext })
  end
  if #sources == 0 then table.insert(sources, { name = "", ext = "" }) end
  math.randomseed(os.time() + (tid or 0) * 7919)
end

local function expand(n)
  local i = n % #sources
  local s = sources[i + 1]
  local p = pattern
  p = string.gsub(p, "{n}", tostring(n))
  local box = tostring(100 + n % 900)
  p = string.gsub(p, "{w}", box)
  p = string.gsub(p, "{h}", box)
  p = string.gsub(p, "{src}", s.name)
  p = string.gsub(p, "{ext}", s.ext)
  p = string.gsub(p, "{i}", tostring(i))
  return p
end

function request()
  local n
  if mode == "rand" then
    n = math.random(0, k - 1)
  elseif mode == "cycle" then
    n = counter % k
  else
    n = base + (tid or 0) * 50000 + counter
  end
  counter = counter + 1
  return wrk.format("GET", expand(n))
end
