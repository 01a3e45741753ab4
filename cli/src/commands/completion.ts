import type { Command } from "commander";
import { UsageError } from "../exit-codes.js";

/** Every command path and the words that may follow it, read from the program itself so it never drifts. */
function wordsByPath(command: Command, path: string[] = []): Map<string, string[]> {
  const words = new Map<string, string[]>();
  const options = command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
  words.set(path.join(" "), [...command.commands.map((c) => c.name()), ...options, "--help"]);
  for (const sub of command.commands) for (const [key, value] of wordsByPath(sub, [...path, sub.name()])) words.set(key, value);
  return words;
}

function bashScript(program: Command): string {
  const cases = [...wordsByPath(program)].map(([path, words]) => `    "${path}") words="${words.join(" ")}" ;;`).join("\n");
  return `# edp completion for bash: source <(edp completion bash)
_edp() {
  local cur path="" w
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) if [ -n "$(_edp_words "\${path:+$path }$w")" ]; then path="\${path:+$path }$w"; fi ;; esac
  done
  COMPREPLY=($(compgen -W "$(_edp_words "$path")" -- "$cur"))
}
_edp_words() {
  local words=""
  case "$1" in
${cases}
  esac
  echo "$words"
}
complete -o default -F _edp edp
`;
}

function zshScript(program: Command): string {
  return `#compdef edp
# edp completion for zsh: source <(edp completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(program)}`;
}

export function completionCommand(program: Command): void {
  program
    .command("completion <shell>")
    .description("print a shell completion script (bash or zsh)")
    .addHelpText("after", "\nExamples:\n  source <(edp completion bash)\n  edp completion zsh > ~/.zfunc/_edp")
    .action((shell: string) => {
      if (shell === "bash") process.stdout.write(bashScript(program));
      else if (shell === "zsh") process.stdout.write(zshScript(program));
      else throw new UsageError(`completion takes bash or zsh, not ${shell}`);
    });
}
