/**
 * The one quoting function (DESIGN.md rule 8). Every value that reaches a remote or
 * local shell goes through it, so nothing a user types can run as a command.
 *
 * POSIX single quotes make every character literal except the single quote itself,
 * which is written as '\'' (close, escaped quote, reopen). NUL cannot be carried by
 * any shell word, so it is refused rather than silently truncated.
 */
export function shellQuote(value: string): string {
  if (value.includes("\0")) throw new Error("A shell argument cannot contain a NUL byte");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Joins words into one command line, quoting each. Use for every command built from values. */
export function shellCommand(...words: string[]): string {
  return words.map(shellQuote).join(" ");
}
