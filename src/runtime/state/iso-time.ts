/**
 * `new Date(ms).toISOString()` by arithmetic: V8's first date breakdown in a process sets up its date
 * cache and time zone (~0.7 ms of create, which writes one timestamp). Same output for 1970-9999.
 */
export function isoTime(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms >= 253402300800000) return new Date(ms).toISOString();
  const days = Math.floor(ms / 86400000);
  let rest = ms - days * 86400000;
  // Days since 1970-01-01 to a civil date (proleptic Gregorian), counting from 0000-03-01 in 400-year eras.
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const h = Math.floor(rest / 3600000);
  rest -= h * 3600000;
  const min = Math.floor(rest / 60000);
  rest -= min * 60000;
  const sec = Math.floor(rest / 1000);
  const milli = rest - sec * 1000;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(year, 4)}-${p(month)}-${p(day)}T${p(h)}:${p(min)}:${p(sec)}.${p(milli, 3)}Z`;
}
