package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// scrapeTimeout bounds the database reads of one scrape.
const scrapeTimeout = 2 * time.Second

// DBCollector reads, at each scrape, the gauges that live in the database:
// they describe the whole deployment, the same whichever replica answers.
type DBCollector struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	backlog, oldestAge, waiting, schedules, overdue, replicas *prometheus.Desc
}

// replicaStates are the states herald_replicas counts, each always present.
var replicaStates = []string{"alive", "silent", "dead", "stopped"}

// NewDBCollector returns the collector; register it with a registry.
func NewDBCollector(pool *pgxpool.Pool, logger *slog.Logger) *DBCollector {
	return &DBCollector{
		pool:      pool,
		logger:    logger,
		backlog:   prometheus.NewDesc("herald_queue_backlog", "Jobs due and waiting for a worker, by queue.", []string{"queue"}, nil),
		oldestAge: prometheus.NewDesc("herald_oldest_ready_age_seconds", "Age of the oldest due job waiting for a worker, by queue.", []string{"queue"}, nil),
		waiting:   prometheus.NewDesc("herald_tasks_waiting_upstream", "Task runs waiting for their upstream tasks.", nil, nil),
		schedules: prometheus.NewDesc("herald_active_schedules", "Jobs with a next tick that are not paused.", nil, nil),
		overdue:   prometheus.NewDesc("herald_overdue_ticks", "Jobs whose next tick is past its time and not yet claimed (no replica working, or ticks backing up).", nil, nil),
		replicas:  prometheus.NewDesc("herald_replicas", "Registered herald processes by state: alive, silent (past its timeout, about to be declared dead), dead (reclaimed) and stopped, the last two over the past 24 hours.", []string{"state"}, nil),
	}
}

// Describe sends the descriptors.
func (c *DBCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.backlog
	ch <- c.oldestAge
	ch <- c.waiting
	ch <- c.schedules
	ch <- c.overdue
	ch <- c.replicas
}

// Collect reads the gauges; a failed read is logged and its gauges left out.
func (c *DBCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	rows, err := c.pool.Query(ctx, `
		SELECT queue, count(*), coalesce(extract(epoch FROM now() - min(scheduled_at)), 0)
		FROM river_job WHERE state = 'available' AND scheduled_at <= now() GROUP BY queue`)
	if err != nil {
		c.logger.Warn("metrics: read queue backlog", slog.Any("error", err))
	} else {
		for rows.Next() {
			var queue string
			var n int64
			var age float64
			if err := rows.Scan(&queue, &n, &age); err != nil {
				break
			}
			ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(n), queue)
			ch <- prometheus.MustNewConstMetric(c.oldestAge, prometheus.GaugeValue, age, queue)
		}
		rows.Close()
	}
	c.collectReplicas(ctx, ch)
	var waiting, schedules, overdue int64
	err = c.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM task_runs WHERE state = 'waiting'),
		(SELECT count(*) FROM jobs WHERE next_fire_at IS NOT NULL AND NOT paused AND deleted_at IS NULL),
		(SELECT count(*) FROM jobs WHERE next_fire_at < now() AND NOT paused AND deleted_at IS NULL)`).Scan(&waiting, &schedules, &overdue)
	if err != nil {
		c.logger.Warn("metrics: read task and schedule counts", slog.Any("error", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(waiting))
	ch <- prometheus.MustNewConstMetric(c.schedules, prometheus.GaugeValue, float64(schedules))
	ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(overdue))
}

// collectReplicas counts the registered processes by state.
func (c *DBCollector) collectReplicas(ctx context.Context, ch chan<- prometheus.Metric) {
	rows, err := c.pool.Query(ctx, `
		SELECT CASE WHEN state = 'alive' AND heartbeat_at < now() - make_interval(secs => timeout_ms / 1000.0)
		            THEN 'silent' ELSE state END, count(*)
		FROM replicas GROUP BY 1`)
	if err != nil {
		c.logger.Warn("metrics: read replicas", slog.Any("error", err))
		return
	}
	counts := map[string]int64{}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			break
		}
		counts[state] = n
	}
	rows.Close()
	if rows.Err() != nil {
		return
	}
	for _, st := range replicaStates {
		ch <- prometheus.MustNewConstMetric(c.replicas, prometheus.GaugeValue, float64(counts[st]), st)
	}
}
