/**
 * Strings that would run `touch <marker>` if they reached a shell unquoted, or climb out of a
 * directory if they reached a path unchecked. Tests pass them everywhere a user can type and then
 * assert the marker file never appears.
 */
export function hostileStrings(marker: string): string[] {
  return [
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    `; touch ${marker}`,
    `' ; touch ${marker} ; '`,
    `"; touch ${marker}; "`,
    `"$(touch ${marker})"`,
    `a\ntouch ${marker}\nb`,
    `| touch ${marker}`,
    `&& touch ${marker}`,
    `$(touch ${marker})'\\''`,
    `\\'; touch ${marker} #`,
    `../../../../tmp/${marker.split("/").pop()}`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${...} is exactly the hostile input wanted here
    "$HOME ${PATH} $$ !! * ? [a] ~",
    "-n",
    "--help",
    "",
    "tab\there",
    "ünïcödé ✓",
  ];
}
