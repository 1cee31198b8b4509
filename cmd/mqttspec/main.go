package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK    = 0 // success, or help/version printed
	exitFail  = 1 // the command ran and a check failed (e.g. malformed input)
	exitUsage = 2 // the command line was wrong: unknown command or flag, bad argument
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes mqttspec with args (without the program name) and returns the
// process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return execute(newRootCmd(), args, stdout, stderr)
}

// execute runs the command tree under root and maps its outcome to an exit code.
//
// An error that cobra returns before any command body (Run/RunE) starts comes
// from parsing the command line: unknown command or flag, bad flag value, wrong
// number of arguments, missing required flag. It is a usage error. An error
// returned by a command body is a failed check, unless the body marks it as a
// usage error with usageErrorf.
func execute(root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	started := false
	markStarted(root, &started)

	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "mqttspec: %v\n", err)
	var uerr usageError
	if !started || errors.As(err, &uerr) {
		fmt.Fprintf(stderr, "Usage: %s\nRun '%s --help' for more information.\n", cmd.UseLine(), cmd.CommandPath())
		return exitUsage
	}
	return exitFail
}

// markStarted wraps the body of cmd and of every command below it so that
// *started is set once a body begins.
func markStarted(cmd *cobra.Command, started *bool) {
	if body := cmd.RunE; body != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			*started = true
			return body(c, args)
		}
	}
	if body := cmd.Run; body != nil {
		cmd.Run = func(c *cobra.Command, args []string) {
			*started = true
			body(c, args)
		}
	}
	for _, sub := range cmd.Commands() {
		markStarted(sub, started)
	}
}

// usageError marks an error found by a command body that is the user's
// command line, not the thing being checked (e.g. two flags that exclude each
// other). It leads to exit code 2 and the usage hint.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usageErrorf formats a usage error; see usageError.
func usageErrorf(format string, a ...any) error {
	return usageError{fmt.Errorf(format, a...)}
}
