package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"          // the json log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // the version metric
	"k8s.io/component-base/version"
	kubectl "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kwokconfig "sigs.k8s.io/kwok/pkg/config"
	kwok "sigs.k8s.io/kwok/pkg/kwok/cmd"
	kwoklog "sigs.k8s.io/kwok/pkg/log"
	"sigs.k8s.io/kwok/pkg/utils/signals"
	metricsserver "sigs.k8s.io/metrics-server/cmd/metrics-server/app"
)

func runAPIServer([]string) int {
	return cli.Run(apiserver.NewAPIServerCommand())
}

func runControllerManager([]string) int {
	return cli.Run(controllermanager.NewControllerManagerCommand())
}

func runScheduler([]string) int {
	return cli.Run(scheduler.NewSchedulerCommand())
}

func runKubectl([]string) int {
	if err := cli.RunNoErrOutput(kubectl.NewDefaultKubectlCommand()); err != nil {
		kubectlutil.CheckErr(err) // prints the error and exits non-zero
	}
	return 0
}

// runKwok is kwok's own main: its global flags, then its command. The flags
// that Kubernetes packages register globally (among them a non-boolean
// --version, which cobra refuses in a command with a version) are left out,
// as they are in kwok's own binary.
func runKwok([]string) int {
	pflag.CommandLine = pflag.NewFlagSet("kwok", pflag.ExitOnError)
	flags := pflag.NewFlagSet("global", pflag.ContinueOnError)
	flags.ParseErrorsAllowlist.UnknownFlags = true
	flags.Usage = func() {}
	ctx := signals.SetupSignalContext()
	ctx, logger := kwoklog.InitFlags(ctx, flags)
	ctx, err := kwokconfig.InitFlags(ctx, flags)
	if err != nil {
		logger.Error("kwok flags", "err", err)
		return 1
	}
	command := kwok.NewCommand(ctx)
	command.PersistentFlags().AddFlagSet(flags)
	if err := command.ExecuteContext(ctx); err != nil {
		logger.Error("kwok", "err", err)
		return 1
	}
	return 0
}

// runMetricsServer is metrics-server's own main.
func runMetricsServer([]string) int {
	logs.InitLogs()
	defer logs.FlushLogs()
	if err := metricsserver.NewMetricsServerCommand(genericapiserver.SetupSignalHandler()).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "metrics-server:", err)
		return 1
	}
	return 0
}

func runVersion([]string) int {
	fmt.Fprintln(os.Stdout, version.Get().GitVersion)
	return 0
}
