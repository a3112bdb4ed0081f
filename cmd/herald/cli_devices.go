package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/herald-sched/herald/client"
)

func devicesCommand() *cliCommand {
	return &cliCommand{
		name:    "devices",
		summary: "Show the devices tasks can target.",
		sub: []*cliCommand{
			{name: "list", summary: "List devices, newest first, with their liveness and load.", setup: devicesList},
			{name: "get", args: "DEVICE", summary: "Show a device (DEVICE is its id).", setup: devicesGet},
		},
	}
}

func devicesList(cl *cli, s *settings) func(context.Context, []string) error {
	var (
		labels string
		limit  int
	)
	s.String(&labels, "label", "", "", "Only devices carrying these labels: k=v[,k=v...].")
	s.Int(&limit, "limit", "", 100, "Show at most this many (0: all).")
	return func(ctx context.Context, args []string) error {
		if err := noArgs(args); err != nil {
			return err
		}
		params := &client.ListDevicesParams{Limit: new(min(max(limit, 1), 500))}
		if labels != "" {
			params.Label = strings.Split(labels, ",")
		}
		c, err := cl.client()
		if err != nil {
			return err
		}
		devices, err := collect(c.Devices(ctx, params), limit)
		if err != nil {
			return cl.fail(err)
		}
		if cl.json() {
			return cl.printJSON(devices)
		}
		t := newTable(cl.stdout, "ID", "NAME", "STATE", "MODE", "CPU", "MEMORY", "QUEUE", "LAST HEARTBEAT", "LABELS")
		for _, d := range devices {
			t.row(d.Id, d.Name, string(d.State), string(d.Mode), ratio(d.Cpu), ratio(d.Memory), intOrDash(d.QueueDepth), when(d.LastHeartbeatAt), labelsText(d.Labels))
		}
		return t.flush()
	}
}

func devicesGet(cl *cli, s *settings) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		c, id, err := cl.clientAndArg(args, "DEVICE")
		if err != nil {
			return err
		}
		d, err := c.GetDevice(ctx, id)
		if err != nil {
			return cl.fail(err)
		}
		if cl.json() {
			return cl.printJSON(d)
		}
		t := newTable(cl.stdout, "ID", d.Id)
		t.row("NAME", d.Name)
		t.row("STATE", string(d.State))
		t.row("MODE", string(d.Mode))
		t.row("URL", orDash(deref(d.Url)))
		t.row("CAPACITY", strconv.Itoa(d.Capacity))
		t.row("TIME ZONE", d.Timezone)
		t.row("LABELS", labelsText(d.Labels))
		t.row("CPU", ratio(d.Cpu))
		t.row("MEMORY", ratio(d.Memory))
		t.row("QUEUE", intOrDash(d.QueueDepth))
		t.row("LAST HEARTBEAT", when(d.LastHeartbeatAt))
		t.row("OFFLINE SINCE", when(d.OfflineSince))
		t.row("TOKEN", d.TokenPrefix+"…")
		return t.flush()
	}
}

// ratio is a load between 0 and 1 as a percentage.
func ratio(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", *v*100)
}

func intOrDash(v *int) string {
	if v == nil {
		return "-"
	}
	return strconv.Itoa(*v)
}
