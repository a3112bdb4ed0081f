package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/herald-sched/herald/client"
)

// Register a job that calls a URL every ten seconds, Berlin time, and skips
// a tick while the previous run is still going.
func ExampleClient_CreateJob() {
	herald := startHerald() // a herald of the example's own; yours is at its URL with its key
	defer herald.Stop()

	c, err := client.New(herald.URL, herald.APIKey)
	if err != nil {
		log.Fatal(err)
	}
	job, err := c.CreateJob(context.Background(), client.JobInput{
		Name:     "poll-gateway",
		Schedule: &client.Schedule{Cron: new("*/10 * * * * *"), Timezone: new("Europe/Berlin")},
		Overlap:  new(client.JobInputOverlapSkip),
		Tasks: []client.Task{{
			Request: &client.Request{Url: new(herald.Receiver + "/poll")},
			Retry:   &client.Retry{MaxAttempts: new(3), InitialInterval: new("1s")},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(job.Name, *job.Schedule.Cron, *job.Schedule.Timezone)
	fmt.Println("next fire times:", len(job.NextFireTimes))
	fmt.Println("signing secret:", strings.HasPrefix(job.Secret, "whsec_"))
	// Output:
	// poll-gateway */10 * * * * * Europe/Berlin
	// next fire times: 5
	// signing secret: true
}

// Register a workflow (drain, then push, then verify, which sends what push
// answered), run it now and watch the run to its end.
func ExampleClient_WatchRun() {
	herald := startHerald()
	defer herald.Stop()

	c, err := client.New(herald.URL, herald.APIKey)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	job, err := c.CreateJob(ctx, client.JobInput{
		Name: "update-gateway",
		Tasks: []client.Task{
			{Id: new("drain"), Request: &client.Request{Url: new(herald.Receiver + "/drain")}},
			{Id: new("push"), DependsOn: []string{"drain"}, Request: &client.Request{Url: new(herald.Receiver + "/push")}},
			{Id: new("verify"), DependsOn: []string{"push"}, Request: &client.Request{
				Url:  new(herald.Receiver + "/verify"),
				Body: new(any(map[string]any{"push_status": "{{ tasks.push.status }}"})),
			}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	run, err := c.TriggerRun(ctx, job.Id.String())
	if err != nil {
		log.Fatal(err)
	}
	for r, err := range c.WatchRun(ctx, run.Id.String(), 100*time.Millisecond) {
		if err != nil {
			log.Fatal(err)
		}
		if !r.State.Ended() {
			continue // r has the tasks' states and attempts as they are now
		}
		for _, t := range r.Tasks {
			fmt.Println(t.TaskId, t.State, len(t.Attempts), "attempt(s)")
		}
		fmt.Println("run", r.State)
	}
	// Unordered output:
	// drain succeeded 1 attempt(s)
	// push succeeded 1 attempt(s)
	// verify succeeded 1 attempt(s)
	// run succeeded
}

// A task that fails for good fails its run, and the tasks downstream of it
// end upstream_failed.
func ExampleRunState_Ended() {
	herald := startHerald()
	defer herald.Stop()

	c, err := client.New(herald.URL, herald.APIKey)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	job, err := c.CreateJob(ctx, client.JobInput{
		Name: "flaky",
		Tasks: []client.Task{
			{Id: new("fetch"), Request: &client.Request{Url: new(herald.Receiver + "/fail")}, Retry: &client.Retry{MaxAttempts: new(1)}},
			{Id: new("report"), DependsOn: []string{"fetch"}, Request: &client.Request{Url: new(herald.Receiver + "/report")}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	run, err := c.TriggerRun(ctx, job.Id.String())
	if err != nil {
		log.Fatal(err)
	}
	var last client.Run
	for r, err := range c.WatchRun(ctx, run.Id.String(), 100*time.Millisecond) {
		if err != nil {
			log.Fatal(err)
		}
		last = r
	}
	fmt.Println("run", last.State, "ended:", last.State.Ended())
	for _, t := range last.Tasks {
		fmt.Println(t.TaskId, t.State)
	}
	// Unordered output:
	// run failed ended: true
	// fetch failed
	// report upstream_failed
}

// Every call returns a *client.Problem when the server refuses it, naming
// the offending fields of a definition it cannot accept.
func ExampleProblem() {
	herald := startHerald()
	defer herald.Stop()

	c, err := client.New(herald.URL, herald.APIKey)
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.CreateJob(context.Background(), client.JobInput{
		Name: "cycle",
		Tasks: []client.Task{
			{Id: new("a"), DependsOn: []string{"b"}, Request: &client.Request{Url: new(herald.Receiver)}},
			{Id: new("b"), DependsOn: []string{"a"}, Request: &client.Request{Url: new(herald.Receiver)}},
		},
	})
	var p *client.Problem
	if errors.As(err, &p) {
		fmt.Println(p.Status, p.Type)
		for _, f := range p.Fields {
			fmt.Printf("%s: %s\n", f.Field, f.Message)
		}
	}
	_, err = c.GetJob(context.Background(), "0b7e2a52-9d3c-4d35-9a5e-1f6f1f0c0c0c")
	fmt.Println("not found:", client.IsNotFound(err))
	// Output:
	// 422 urn:herald:problem:validation
	// tasks[0].depends_on: cycle: a -> b -> a (each task depends on the one before it)
	// not found: true
}

// Jobs iterates over every job, page after page (here two jobs a page).
func ExampleClient_Jobs() {
	herald := startHerald()
	defer herald.Stop()

	c, err := client.New(herald.URL, herald.APIKey)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"sync-a", "sync-b", "sync-c"} {
		if _, err := c.CreateJob(ctx, client.JobInput{Name: name, Tasks: []client.Task{{Request: &client.Request{Url: new(herald.Receiver)}}}}); err != nil {
			log.Fatal(err)
		}
	}
	for job, err := range c.Jobs(ctx, &client.ListJobsParams{Name: new("sync-"), Limit: new(2)}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(job.Name)
	}
	// Output:
	// sync-c
	// sync-b
	// sync-a
}
