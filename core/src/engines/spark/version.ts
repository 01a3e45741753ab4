/**
 * Spark versions compared numerically, part by part: "10.0.0" is newer than "9.9.9" and "1.10" newer
 * than "1.9" (Sahara compared them as strings). A suffix such as "-SNAPSHOT" or "-cdh6" is ignored.
 */
export function parseVersion(version: string): number[] | undefined {
  const match = /^(\d+)((?:\.\d+)*)/.exec(version.trim());
  if (!match) return undefined;
  return [match[1], ...match[2].split(".").slice(1)].map(Number);
}

export function isAtLeast(version: string, minimum: string): boolean {
  const actual = parseVersion(version);
  const wanted = parseVersion(minimum);
  if (!actual || !wanted) return false;
  for (let i = 0; i < Math.max(actual.length, wanted.length); i++) {
    const difference = (actual[i] ?? 0) - (wanted[i] ?? 0);
    if (difference !== 0) return difference > 0;
  }
  return true;
}
