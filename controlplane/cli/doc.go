// Package cli is cairn's cluster command line: install and uninstall,
// locations, backups, restores and schedules, version and shell
// completion. cmd/cairn is a thin main around NewCommand; `cairn repo`
// (chunkstore/repocli) is added beside these commands unchanged.
//
// The commands talk to the cluster the way kubectl does: the kubeconfig
// comes from --kubeconfig, else $KUBECONFIG, else ~/.kube/config, and
// --context picks a context (client-go's clientcmd loading rules).
// -n/--namespace is the namespace cairn runs in (default cairn-system),
// not the context's namespace: every cairn object lives there.
//
// Conventions every command follows:
//   - Exit codes: 0 success, 1 failure, 2 usage error (a bad flag or
//     argument, a mapping, selector or cron expression that does not parse).
//     A --wait that sees a backup or restore end PartiallyFailed or Failed
//     exits 1.
//   - Errors name the object and the fix: an unreachable cluster names its
//     server and context, missing CRDs say "run cairn install", an unknown
//     name lists the names that exist.
//   - get and describe take -o table|json|yaml; json and yaml print the
//     object as kubectl does, or a List for several (managedFields left out).
//   - Secret values (repository passwords, S3 keys) never reach any output
//     or error: install --dry-run prints the commands that create the
//     Secrets instead of the Secrets, and parse errors of credential files
//     name the line, never its content.
//   - Time comes from Config.Now, so ages in golden tests are stable.
package cli
