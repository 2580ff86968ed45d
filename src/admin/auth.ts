/**
 * The admin API's bearer check (`Authorization: Bearer <PIXPROXY_ADMIN_SECRET>`, RFC 6750
 * §2.1, https://www.rfc-editor.org/rfc/rfc6750#section-2.1). Both sides are hashed before the
 * comparison, so `timingSafeEqual` compares equal lengths and neither the secret's length nor
 * a matching prefix shows in the time an answer takes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** A check of an `Authorization` header against `secret`. */
export function bearerCheck(secret: string): (authorization: string | undefined) => boolean {
  const expected = digest(`Bearer ${secret}`);
  return (authorization) => timingSafeEqual(digest(authorization ?? ''), expected);
}
