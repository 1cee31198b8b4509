package main

import "github.com/spf13/cobra"

// newRootCmd builds the mqttspec command tree.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "mqttspec",
		Short: "Conformance, fleet and fuzz testing for MQTT brokers",
		Long: `mqttspec tests MQTT brokers, in-process, at an address, or in a container:

  does it follow the MQTT 3.1.1 and 5.0 specifications?   run, matrix, report, catalogue
  does it hold up under a fleet of devices?               sim
  does its packet parser survive hostile input?           fuzz

and carries a strict reference broker and codec to compare against (broker, decode).`,
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
	root.AddCommand(newReportCmd())
	root.AddCommand(newMatrixCmd())
	root.AddCommand(newFuzzCmd())
	root.AddCommand(newSimCmd())

	return root
}
