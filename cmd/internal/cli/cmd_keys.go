package cli

import (
	"fmt"
	"io"
	"strings"

	"batchinfer/gateway/auth"

	"github.com/spf13/cobra"
)

func (a *app) keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "API keys"}
	var tenant, role, id string
	var settings []string
	newCmd := &cobra.Command{
		Use:   "new",
		Short: "Print a new API key and its line for the gateway's keys file",
		Long: "new prints a fresh random key (give it to its user, once) and the line of the gateway's keys file\n" +
			"(-api-keys-file) that admits it: the tenant, the key's SHA-256 and its settings. The gateway keeps\n" +
			"only the hash; nothing is sent anywhere.",
		Args: args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if role != "user" && role != "operator" {
				return usagef("--role is user or operator")
			}
			if tenant == "" || strings.ContainsAny(tenant, " \t\n#") {
				return usagef("--tenant %q: a tenant is one word", tenant)
			}
			key := auth.NewKey()
			line := tenant + " " + auth.HashKey(key) + " role=" + role
			if id != "" {
				line += " id=" + id
			}
			if len(settings) > 0 {
				line += " " + strings.Join(settings, " ")
			}
			return a.result(map[string]string{"key": key, "line": line, "tenant": tenant, "role": role},
				func(w io.Writer) { fmt.Fprintf(w, "key:  %s\nline: %s\n", key, line) })
		},
	}
	newCmd.Flags().StringVar(&tenant, "tenant", "default", "tenant the key acts for")
	newCmd.Flags().StringVar(&role, "role", "user", "user or operator")
	newCmd.Flags().StringVar(&id, "id", "", "names the key in the audit log")
	newCmd.Flags().StringSliceVar(&settings, "set", nil, "more settings of the line (rate=, burst=, jobs=, items=, conns=, uploads=, follows=)")
	newCmd.Annotations = map[string]string{"offline": "true"} // needs no gateway
	cmd.AddCommand(newCmd)
	return cmd
}
