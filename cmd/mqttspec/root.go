package main

import "github.com/spf13/cobra"

// newRootCmd builds the mqttspec command tree.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "mqttspec",
		Short: "Conformance, fleet and fuzz testing for MQTT brokers",
		Long: `mqttspec tests MQTT brokers: does a broker follow the MQTT 3.1.1 and 5.0
specifications (run, catalogue), and a strict reference broker and codec to
compare against (broker, decode).

Not yet part of this build: containers for other brokers, the multi-broker
matrix, the fleet simulator and the network fuzzer.`,
		Version: versionString(),
		// Arguments that name no subcommand are a usage error, not a cue for help.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
		// run() prints each error once and the usage hint for usage errors only.
		SilenceErrors: true,
		SilenceUsage:  true,
	}

	// Subcommands: each in its own file cmd_<name>.go with a constructor
	// new<Name>Cmd() *cobra.Command, registered here with one line, e.g.
	//
	//	root.AddCommand(newDecodeCmd())
	//
	// Register only subcommands that work.
	root.AddCommand(newDecodeCmd())
	root.AddCommand(newBrokerCmd())
	root.AddCommand(newRunCmd())
	root.AddCommand(newCatalogueCmd())

	return root
}
