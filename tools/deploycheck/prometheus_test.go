package deploycheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// promtool returns promtool's path, or skips the test saying so.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("skipped: promtool is not installed (Debian's prometheus package has it; .ci/run installs it)")
	}
	return p
}

func rulesPath(t *testing.T) string {
	return filepath.Join(repoRoot(t), "deploy", "prometheus", "rules.yaml")
}

// promtool check rules and promtool test rules (deploy/prometheus/rules_test.yaml).
func TestPrometheusRulesWithPromtool(t *testing.T) {
	t.Parallel()
	bin := promtool(t)
	dir := filepath.Join(repoRoot(t), "deploy", "prometheus")
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "rules_test.yaml"}} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "promtool %v:\n%s", args, out)
		require.Contains(t, string(out), "SUCCESS", "promtool %v", args)
	}
}

// Every alert says how bad it is and what it means, and has a unit test in
// which it fires.
func TestPrometheusRulesAreDescribedAndTested(t *testing.T) {
	t.Parallel()
	rules, err := ReadRules(rulesPath(t))
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "prometheus", "rules_test.yaml"))
	require.NoError(t, err)
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string           `json:"alertname"`
				ExpAlerts []map[string]any `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &tests))
	fires := map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			}
		}
	}
	var alerts int
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			require.Contains(t, []string{"critical", "warning", "info"}, r.Labels["severity"], "alert %s: severity", r.Alert)
			require.NotEmpty(t, r.Annotations["summary"], "alert %s: summary", r.Alert)
			require.NotEmpty(t, r.Annotations["description"], "alert %s: description", r.Alert)
			require.True(t, fires[r.Alert], "alert %s has no test in rules_test.yaml in which it fires", r.Alert)
			_, err := MetricNames(r.Expr)
			require.NoError(t, err, "alert %s", r.Alert)
		}
	}
	require.NotZero(t, alerts)
}
