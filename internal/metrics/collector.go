package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/herald-sched/herald/internal/store"
)

// scrapeTimeout bounds the database reads of one scrape.
const scrapeTimeout = 2 * time.Second

// DBCollector reads, at each scrape, the gauges that live in the database:
// they describe the whole deployment, the same whichever replica answers
// (aggregate them across replicas with max, not sum).
type DBCollector struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	// queues are always reported, at zero when River has not registered
	// them yet (no worker has started on the database).
	queues []string

	up, backlog, oldestAge, waiting, schedules, overdue, replicas, openCircuits, devices *prometheus.Desc
}

// deviceStates are the states herald_devices counts, each always present.
var deviceStates = []string{"online", "offline", "never_seen"}

// replicaStates are the states herald_replicas counts, and replicaRoles the
// roles; every pair is always present.
var (
	replicaStates = []string{"alive", "silent", "dead", "stopped"}
	replicaRoles  = []string{"api", "worker", "all"}
)

// NewDBCollector returns the collector; register it with a registry.
func NewDBCollector(pool *pgxpool.Pool, logger *slog.Logger) *DBCollector {
	return &DBCollector{
		pool:         pool,
		logger:       logger,
		up:           prometheus.NewDesc("herald_database_up", "1 when this process reached PostgreSQL at this scrape (a ping within 2s), else 0; the other database gauges are left out while it is 0.", nil, nil),
		backlog:      prometheus.NewDesc("herald_queue_backlog", "Jobs due and waiting for a worker, by queue (every queue River knows, 0 when none wait).", []string{"queue"}, nil),
		oldestAge:    prometheus.NewDesc("herald_oldest_ready_age_seconds", "Age of the oldest due job waiting for a worker, by queue (0 when none wait).", []string{"queue"}, nil),
		waiting:      prometheus.NewDesc("herald_tasks_waiting_upstream", "Task runs waiting for their upstream tasks.", nil, nil),
		schedules:    prometheus.NewDesc("herald_active_schedules", "Jobs with a next tick that are not paused.", nil, nil),
		overdue:      prometheus.NewDesc("herald_overdue_ticks", "Jobs whose next tick is past its time and not yet claimed (no replica working, or ticks backing up).", nil, nil),
		replicas:     prometheus.NewDesc("herald_replicas", "Registered herald processes by state and role: alive, silent (past its timeout, about to be declared dead), dead (reclaimed) and stopped, the last two over the past 24 hours; role is api, worker or all (--role).", []string{"state", "role"}, nil),
		openCircuits: prometheus.NewDesc("herald_endpoints_open", "Target hosts whose circuit is open (deliveries to them parked, one probe at a time).", nil, nil),
		devices:      prometheus.NewDesc("herald_devices", "Registered devices by state: online, offline (declared so by the sweep after the device timeout), never_seen (no heartbeat yet).", []string{"state"}, nil),
	}
}

// WithQueues makes the queue gauges report these queues always, at zero
// until River knows them (an API replica on a database no worker has used
// yet). It returns c.
func (c *DBCollector) WithQueues(names ...string) *DBCollector {
	c.queues = append(c.queues, names...)
	return c
}

// Describe sends the descriptors.
func (c *DBCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.backlog
	ch <- c.oldestAge
	ch <- c.waiting
	ch <- c.schedules
	ch <- c.overdue
	ch <- c.replicas
	ch <- c.openCircuits
	ch <- c.devices
}

// Collect reads the gauges. herald_database_up is always sent; when the
// database does not answer the ping, the other gauges are left out (rather
// than each read waiting for its timeout), and a failed read is logged and
// its gauges left out.
func (c *DBCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if err := c.pool.Ping(ctx); err != nil {
		c.logger.Warn("metrics: database unreachable", slog.Any("error", err))
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	c.collectQueues(ctx, ch)
	c.collectReplicas(ctx, ch)
	c.collectDevices(ctx, ch)
	// Waiting task runs are counted through the active runs: a run that
	// ends has no task left waiting (its end cancels them), and no index of
	// task_runs holds state, so that a task run's updates stay HOT
	// (migration 0021). This reads runs_active_by_job and task_runs_by_run,
	// not the whole of task_runs.
	var waiting, schedules, overdue, open int64
	err := c.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM runs r JOIN task_runs t ON t.run_id = r.id
		 WHERE r.state IN ('running', 'queued') AND t.state = 'waiting'),
		(SELECT count(*) FROM jobs WHERE next_fire_at IS NOT NULL AND NOT paused AND deleted_at IS NULL),
		(SELECT count(*) FROM jobs WHERE next_fire_at < now() AND NOT paused AND deleted_at IS NULL),
		(SELECT count(*) FROM endpoints WHERE state = 'open')`).Scan(&waiting, &schedules, &overdue, &open)
	if err != nil {
		c.logger.Warn("metrics: read task, schedule and circuit counts", slog.Any("error", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(waiting))
	ch <- prometheus.MustNewConstMetric(c.schedules, prometheus.GaugeValue, float64(schedules))
	ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(overdue))
	ch <- prometheus.MustNewConstMetric(c.openCircuits, prometheus.GaugeValue, float64(open))
}

// collectQueues sends each queue's backlog and oldest due job's age: the
// queues with due jobs, and with zeros every other queue River has
// registered (river_queue), so that a queue's series does not vanish when it
// empties.
func (c *DBCollector) collectQueues(ctx context.Context, ch chan<- prometheus.Metric) {
	backlog, err := store.QueueBacklog(ctx, c.pool)
	if err != nil {
		c.logger.Warn("metrics: read queue backlog", slog.Any("error", err))
		return
	}
	seen := map[string]bool{}
	for _, q := range backlog {
		seen[q.Queue] = true
		ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(q.Due), q.Queue)
		ch <- prometheus.MustNewConstMetric(c.oldestAge, prometheus.GaugeValue, q.Age, q.Queue)
	}
	for _, queue := range c.queues {
		if !seen[queue] {
			seen[queue] = true
			ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, 0, queue)
			ch <- prometheus.MustNewConstMetric(c.oldestAge, prometheus.GaugeValue, 0, queue)
		}
	}
}

// collectReplicas counts the registered processes by state and role.
func (c *DBCollector) collectReplicas(ctx context.Context, ch chan<- prometheus.Metric) {
	rows, err := c.pool.Query(ctx, `
		SELECT CASE WHEN state = 'alive' AND heartbeat_at < now() - make_interval(secs => timeout_ms / 1000.0)
		            THEN 'silent' ELSE state END, role, count(*)
		FROM replicas GROUP BY 1, 2`)
	if err != nil {
		c.logger.Warn("metrics: read replicas", slog.Any("error", err))
		return
	}
	type key struct{ state, role string }
	counts := map[key]int64{}
	for rows.Next() {
		var k key
		var n int64
		if err := rows.Scan(&k.state, &k.role, &n); err != nil {
			break
		}
		counts[k] = n
	}
	rows.Close()
	if rows.Err() != nil {
		return
	}
	for _, st := range replicaStates {
		for _, role := range replicaRoles {
			ch <- prometheus.MustNewConstMetric(c.replicas, prometheus.GaugeValue, float64(counts[key{st, role}]), st, role)
		}
	}
}

// collectDevices counts the devices by state.
func (c *DBCollector) collectDevices(ctx context.Context, ch chan<- prometheus.Metric) {
	rows, err := c.pool.Query(ctx, `
		SELECT CASE WHEN last_heartbeat_at IS NULL THEN 'never_seen' WHEN online THEN 'online' ELSE 'offline' END, count(*)
		FROM devices GROUP BY 1`)
	if err != nil {
		c.logger.Warn("metrics: read devices", slog.Any("error", err))
		return
	}
	counts := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			break
		}
		counts[st] = n
	}
	rows.Close()
	if rows.Err() != nil {
		return
	}
	for _, st := range deviceStates {
		ch <- prometheus.MustNewConstMetric(c.devices, prometheus.GaugeValue, float64(counts[st]), st)
	}
}
