package oidcauth

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// completionShells are the shells `oidc-auth completion` writes a script
// for.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

// completionCommand prints a shell's completion script on stdout.
func (a *app) completionCommand(onUsage cli.OnUsageErrorFunc) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh, fish or powershell",
		ArgsUsage: "SHELL",
		Description: "Prints a script that makes SHELL complete oidc-auth's commands and options;\n" +
			"load it as EXAMPLES shows. bash, zsh and PowerShell ask oidc-auth itself what\n" +
			"fits (oidc-auth must be on PATH); fish gets a complete list.",
		OnUsageError: onUsage,
		BashComplete: func(c *cli.Context) {
			for _, s := range completionShells {
				fmt.Fprintln(c.App.Writer, s)
			}
		},
		Action: func(c *cli.Context) error {
			switch c.NArg() {
			case 0:
				return usagef(c, "completion needs one SHELL: %s", strings.Join(completionShells, ", "))
			case 1:
			default:
				return usagef(c, "completion takes one SHELL, got %d arguments", c.NArg())
			}
			shell := strings.ToLower(c.Args().First())
			var script string
			switch shell {
			case "bash":
				script = bashCompletion
			case "zsh":
				script = zshCompletion
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return fmt.Errorf("cannot write the fish completion: %v", err)
				}
				// urfave/cli's fish rules know commands and flags; the
				// arguments of completion and help are added here.
				var names []string
				for _, cmd := range c.App.Commands {
					if !cmd.Hidden && cmd.Name != "help" {
						names = append(names, cmd.Name)
					}
				}
				script = s + fmt.Sprintf("complete -c oidc-auth -n '__fish_seen_subcommand_from completion' -f -a '%s'\n", strings.Join(completionShells, " ")) +
					fmt.Sprintf("complete -c oidc-auth -n '__fish_seen_subcommand_from help; and not __fish_seen_subcommand_from setup' -f -a '%s'\n", strings.Join(names, " "))
			case "powershell", "pwsh":
				script = powershellCompletion
			default:
				msg := fmt.Sprintf("completion knows no shell %q; give one of %s", c.Args().First(), strings.Join(completionShells, ", "))
				if s := suggest(completionShells, shell); s != "" {
					msg = fmt.Sprintf("completion knows no shell %q (did you mean %s?); give one of %s", c.Args().First(), s, strings.Join(completionShells, ", "))
				}
				return usagef(c, "%s", msg)
			}
			_, err := fmt.Fprint(c.App.Writer, script)
			return err
		},
	}
}

// bashCompletion asks oidc-auth for the words that fit, as urfave/cli's
// bash_autocomplete does: the words before the cursor, the one under it
// when it is a flag, then --generate-bash-completion.
const bashCompletion = `# bash completion for oidc-auth; load it with: source <(oidc-auth completion bash)
_oidc_auth_complete() {
  local cur words opts
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  if [[ "$cur" == -* ]]; then
    opts=$("${words[0]}" "${words[@]:1}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${words[0]}" "${words[@]:1}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "${opts}" -- "$cur"))
  return 0
}
complete -o bashdefault -o default -F _oidc_auth_complete oidc-auth
`

// zshCompletion is bashCompletion for zsh.
const zshCompletion = `#compdef oidc-auth
# zsh completion for oidc-auth; save it as _oidc-auth in a directory of $fpath.
_oidc_auth() {
  local -a opts
  local cur
  cur=${words[CURRENT]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[1]} ${words[2,CURRENT-1]} "$cur" --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[1]} ${words[2,CURRENT-1]} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ -n "${opts[1]}" ]]; then
    compadd -a opts
  else
    _files
  fi
}
if [[ "$funcstack[1]" == "_oidc_auth" ]]; then
  _oidc_auth "$@"
else
  compdef _oidc_auth oidc-auth
fi
`

// powershellCompletion is bashCompletion for PowerShell.
const powershellCompletion = `# PowerShell completion for oidc-auth; add it to $PROFILE.
Register-ArgumentCompleter -Native -CommandName 'oidc-auth' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | Where-Object { $_.Extent.EndOffset -lt $cursorPosition -or ($_.Extent.EndOffset -eq $cursorPosition -and $wordToComplete -eq '') } | ForEach-Object { $_.ToString() })
    $rest = @($words | Select-Object -Skip 1)
    if ($wordToComplete -like '-*') { $rest += $wordToComplete }
    $rest += '--generate-bash-completion'
    & $words[0] @rest 2>$null | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }
}
`
