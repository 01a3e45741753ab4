/**
 * Oozie runs every action element of workflow.xml (and, since 4.x, the contents of its
 * `<job-xml>` files) through its expression language (JSP 2.0 EL, commons-el) before the
 * action starts. A user value such as `${wf:conf('user.name')}` or `${nameNode}` would be
 * evaluated, and an unknown variable suspends the workflow with EL_ERROR.
 *
 * commons-el has no escape character: the only way to write a literal `${` is to produce
 * the `$` from an EL string literal, `${'$'}`. So every `${` in a user value becomes
 * `${'$'}{`, which Oozie evaluates back to exactly `${`. A lone `$` or `{` is not an
 * expression and is left alone, so values without `${` are written unchanged.
 *
 * Only user-supplied text goes through this; EDP's own `${jobTracker}`, `${nameNode}` and the
 * kill node's `${wf:errorMessage(...)}` are meant to be evaluated.
 */
export function elLiteral(value: string): string {
  // A replacer function, not a replacement string: in the latter `$'` means "the text after the match".
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Oozie EL text, not a JavaScript template
  return value.replaceAll("${", () => "${'$'}{");
}
