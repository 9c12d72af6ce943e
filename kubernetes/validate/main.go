// Command validate strictly decodes perfstack's generated Kubernetes objects into the typed API
// structs the cluster and the operators use (k8s.io/api, prometheus-operator's monitoring API), so
// a misspelt or unknown field fails here instead of being pruned silently by the API server, and
// runs the checks the operators themselves run where they are importable (rule groups through
// Prometheus's rulefmt, Slack configs, matchers, probe targets).
//
// Usage: go run . FILE_OR_DIR...   (every *.yaml below a directory; one object per file)
// Prints one line per object and exits 1 when any object fails.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// configMapMaxBytes is the API server's limit on a ConfigMap's keys plus values.
const configMapMaxBytes = 1024 * 1024

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: validate FILE_OR_DIR...")
		os.Exit(2)
	}
	files, err := yamlFiles(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	failed := 0
	for _, file := range files {
		kind, name, err := validateFile(file)
		if err != nil {
			failed++
			fmt.Printf("FAIL %s: %v\n", file, err)
			continue
		}
		fmt.Printf("ok   %s: %s %s\n", file, kind, name)
	}
	fmt.Printf("%d objects, %d failed\n", len(files), failed)
	if failed > 0 {
		os.Exit(1)
	}
}

func yamlFiles(args []string) ([]string, error) {
	var files []string
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, arg)
			continue
		}
		err = filepath.WalkDir(arg, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".yaml") {
				files = append(files, path)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

func validateFile(file string) (string, string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", "", err
	}
	if bytes.Contains(data, []byte("\n---")) {
		return "", "", errors.New("holds more than one YAML document: perfstack writes one object per file")
	}
	var typeMeta metav1.TypeMeta
	if err := yaml.Unmarshal(data, &typeMeta); err != nil {
		return "", "", err
	}
	gvk := typeMeta.APIVersion + "/" + typeMeta.Kind
	check, ok := validators[gvk]
	if !ok {
		return gvk, "", fmt.Errorf("no validator for %s", gvk)
	}
	name, err := check(data)
	return gvk, name, err
}

// strict decodes like the API server with field validation Strict: an unknown or duplicate field
// is an error, and so is a value of the wrong type.
func strict(data []byte, into any) error {
	return yaml.UnmarshalStrict(data, into)
}

var validators = map[string]func([]byte) (string, error){
	"monitoring.coreos.com/v1/PrometheusRule":           validatePrometheusRule,
	"monitoring.coreos.com/v1/ServiceMonitor":           validateServiceMonitor,
	"monitoring.coreos.com/v1/PodMonitor":               validatePodMonitor,
	"monitoring.coreos.com/v1/Probe":                    validateProbe,
	"monitoring.coreos.com/v1alpha1/AlertmanagerConfig": validateAlertmanagerConfig,
	"grafana.integreatly.org/v1beta1/GrafanaDashboard":  validateGrafanaDashboard,
	"batch/v1/Job": validateJob,
	"v1/ConfigMap": validateConfigMap,
}

// validateMeta checks what the API server checks of every namespaced object's name and labels.
func validateMeta(meta metav1.ObjectMeta) error {
	var problems []string
	for _, msg := range validation.IsDNS1123Subdomain(meta.Name) {
		problems = append(problems, "metadata.name: "+msg)
	}
	if meta.Namespace == "" {
		problems = append(problems, "metadata.namespace: missing")
	}
	for _, msg := range validation.IsDNS1123Label(meta.Namespace) {
		problems = append(problems, "metadata.namespace: "+msg)
	}
	for key, value := range meta.Labels {
		for _, msg := range validation.IsQualifiedName(key) {
			problems = append(problems, fmt.Sprintf("metadata.labels[%s]: %s", key, msg))
		}
		for _, msg := range validation.IsValidLabelValue(value) {
			problems = append(problems, fmt.Sprintf("metadata.labels[%s]: %s", key, msg))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// validatePrometheusRule runs what prometheus-operator's admission webhook runs: the spec's
// groups, marshalled back to YAML, through Prometheus's own rule-file parser (expressions,
// templates, durations, duplicate groups).
func validatePrometheusRule(data []byte) (string, error) {
	var rule monitoringv1.PrometheusRule
	if err := strict(data, &rule); err != nil {
		return "", err
	}
	if err := validateMeta(rule.ObjectMeta); err != nil {
		return rule.Name, err
	}
	if len(rule.Spec.Groups) == 0 {
		return rule.Name, errors.New("spec.groups is empty")
	}
	content, err := yaml.Marshal(rule.Spec)
	if err != nil {
		return rule.Name, err
	}
	p := parser.NewParser(parser.Options{})
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, errs := rulefmt.Parse(content, false, model.UTF8Validation, p, logger); len(errs) > 0 {
		return rule.Name, errors.Join(errs...)
	}
	return rule.Name, nil
}

func validateRelabelings(where string, relabelings []monitoringv1.RelabelConfig) error {
	for i, r := range relabelings {
		action := strings.ToLower(r.Action)
		if (action == "" || action == "replace") && r.TargetLabel == "" {
			return fmt.Errorf("%s.relabelings[%d]: replace needs targetLabel", where, i)
		}
	}
	return nil
}

func validateServiceMonitor(data []byte) (string, error) {
	var sm monitoringv1.ServiceMonitor
	if err := strict(data, &sm); err != nil {
		return "", err
	}
	if err := validateMeta(sm.ObjectMeta); err != nil {
		return sm.Name, err
	}
	if _, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector); err != nil || len(sm.Spec.Selector.MatchLabels)+len(sm.Spec.Selector.MatchExpressions) == 0 {
		return sm.Name, fmt.Errorf("spec.selector must select something: %v", err)
	}
	if len(sm.Spec.Endpoints) == 0 {
		return sm.Name, errors.New("spec.endpoints is empty")
	}
	for i, ep := range sm.Spec.Endpoints {
		if ep.Port == "" && ep.TargetPort == nil {
			return sm.Name, fmt.Errorf("spec.endpoints[%d]: needs port or targetPort", i)
		}
		if err := validateRelabelings(fmt.Sprintf("spec.endpoints[%d]", i), ep.RelabelConfigs); err != nil {
			return sm.Name, err
		}
	}
	return sm.Name, nil
}

func validatePodMonitor(data []byte) (string, error) {
	var pm monitoringv1.PodMonitor
	if err := strict(data, &pm); err != nil {
		return "", err
	}
	if err := validateMeta(pm.ObjectMeta); err != nil {
		return pm.Name, err
	}
	if len(pm.Spec.Selector.MatchLabels)+len(pm.Spec.Selector.MatchExpressions) == 0 {
		return pm.Name, errors.New("spec.selector must select something")
	}
	if len(pm.Spec.PodMetricsEndpoints) == 0 {
		return pm.Name, errors.New("spec.podMetricsEndpoints is empty")
	}
	for i, ep := range pm.Spec.PodMetricsEndpoints {
		if (ep.Port == nil || *ep.Port == "") && ep.PortNumber == nil && ep.TargetPort == nil {
			return pm.Name, fmt.Errorf("spec.podMetricsEndpoints[%d]: needs port", i)
		}
		if err := validateRelabelings(fmt.Sprintf("spec.podMetricsEndpoints[%d]", i), ep.RelabelConfigs); err != nil {
			return pm.Name, err
		}
	}
	return pm.Name, nil
}

func validateProbe(data []byte) (string, error) {
	var probe monitoringv1.Probe
	if err := strict(data, &probe); err != nil {
		return "", err
	}
	if err := validateMeta(probe.ObjectMeta); err != nil {
		return probe.Name, err
	}
	if probe.Spec.ProberSpec.URL == "" {
		return probe.Name, errors.New("spec.prober.url is empty")
	}
	if err := probe.Spec.Targets.Validate(); err != nil {
		return probe.Name, fmt.Errorf("spec.targets: %w", err)
	}
	return probe.Name, nil
}

// validateRoute decodes child routes strictly (they are raw JSON in the API type) and checks
// every receiver a route names exists and every matcher is valid.
func validateRoute(where string, route *monitoringv1alpha1.Route, receivers map[string]bool) error {
	if route.Receiver != "" && !receivers[route.Receiver] {
		return fmt.Errorf("%s.receiver: %q is not among spec.receivers", where, route.Receiver)
	}
	for i, m := range route.Matchers {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("%s.matchers[%d]: %w", where, i, err)
		}
	}
	children, err := route.ChildRoutes()
	if err != nil {
		return fmt.Errorf("%s.routes: %w", where, err)
	}
	for i := range children {
		if err := validateRoute(fmt.Sprintf("%s.routes[%d]", where, i), &children[i], receivers); err != nil {
			return err
		}
	}
	return nil
}

func validateAlertmanagerConfig(data []byte) (string, error) {
	var amc monitoringv1alpha1.AlertmanagerConfig
	if err := strict(data, &amc); err != nil {
		return "", err
	}
	if err := validateMeta(amc.ObjectMeta); err != nil {
		return amc.Name, err
	}
	receivers := map[string]bool{}
	for i, r := range amc.Spec.Receivers {
		if receivers[r.Name] {
			return amc.Name, fmt.Errorf("spec.receivers[%d]: duplicate name %q", i, r.Name)
		}
		receivers[r.Name] = true
		for j := range r.SlackConfigs {
			sc := &r.SlackConfigs[j]
			where := fmt.Sprintf("spec.receivers[%d].slackConfigs[%d]", i, j)
			// The webhook URL is a secret: it must come from a Secret key, never inline.
			if sc.APIURL == nil || sc.APIURL.Name == "" || sc.APIURL.Key == "" {
				return amc.Name, fmt.Errorf("%s.apiURL: must name a Secret and its key", where)
			}
			if err := sc.Validate(); err != nil {
				return amc.Name, fmt.Errorf("%s: %w", where, err)
			}
		}
		for j, wc := range r.WebhookConfigs {
			if (wc.URL == nil || *wc.URL == "") && wc.URLSecret == nil {
				return amc.Name, fmt.Errorf("spec.receivers[%d].webhookConfigs[%d]: needs url or urlSecret", i, j)
			}
		}
	}
	if amc.Spec.Route == nil {
		return amc.Name, errors.New("spec.route is missing")
	}
	if err := validateRoute("spec.route", amc.Spec.Route, receivers); err != nil {
		return amc.Name, err
	}
	for i, rule := range amc.Spec.InhibitRules {
		for j, m := range append(append([]monitoringv1alpha1.Matcher{}, rule.SourceMatch...), rule.TargetMatch...) {
			if err := m.Validate(); err != nil {
				return amc.Name, fmt.Errorf("spec.inhibitRules[%d] matcher %d: %w", i, j, err)
			}
		}
	}
	return amc.Name, nil
}

// grafanaDashboard mirrors grafana-operator's GrafanaDashboard (grafana.integreatly.org/v1beta1)
// as its CRD's openAPIV3Schema documents it (config/crd/bases/grafana.integreatly.org_grafanadashboards.yaml):
// every spec field of that schema, typed, so strict decoding refuses any other. grafana-operator's
// own Go module is not available here.
type grafanaDashboard struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              grafanaDashboardSpec `json:"spec"`
}

type grafanaDashboardSpec struct {
	AllowCrossNamespaceImport *bool                        `json:"allowCrossNamespaceImport,omitempty"`
	ConfigMapRef              *corev1.ConfigMapKeySelector `json:"configMapRef,omitempty"`
	ContentCacheDuration      string                       `json:"contentCacheDuration,omitempty"`
	Datasources               []struct {
		DatasourceName string `json:"datasourceName"`
		InputName      string `json:"inputName"`
	} `json:"datasources,omitempty"`
	EnvFrom          []json.RawMessage     `json:"envFrom,omitempty"`
	Envs             []json.RawMessage     `json:"envs,omitempty"`
	Folder           string                `json:"folder,omitempty"`
	FolderRef        string                `json:"folderRef,omitempty"`
	FolderUID        string                `json:"folderUID,omitempty"`
	GrafanaCom       *json.RawMessage      `json:"grafanaCom,omitempty"`
	GzipJSON         []byte                `json:"gzipJson,omitempty"`
	InstanceSelector *metav1.LabelSelector `json:"instanceSelector"`
	JSON             string                `json:"json,omitempty"`
	Jsonnet          string                `json:"jsonnet,omitempty"`
	JsonnetLib       *json.RawMessage      `json:"jsonnetLib,omitempty"`
	Plugins          []struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"plugins,omitempty"`
	ResyncPeriod     string           `json:"resyncPeriod,omitempty"`
	URL              string           `json:"url,omitempty"`
	URLAuthorization *json.RawMessage `json:"urlAuthorization,omitempty"`
}

var resyncPeriodPattern = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`)

func validateGrafanaDashboard(data []byte) (string, error) {
	var gd grafanaDashboard
	if err := strict(data, &gd); err != nil {
		return "", err
	}
	if err := validateMeta(gd.ObjectMeta); err != nil {
		return gd.Name, err
	}
	if gd.Spec.InstanceSelector == nil || len(gd.Spec.InstanceSelector.MatchLabels)+len(gd.Spec.InstanceSelector.MatchExpressions) == 0 {
		return gd.Name, errors.New("spec.instanceSelector is required and must select something")
	}
	if gd.Spec.Folder != "" && (gd.Spec.FolderRef != "" || gd.Spec.FolderUID != "") {
		return gd.Name, errors.New("spec.folder cannot be set with folderRef or folderUID")
	}
	if gd.Spec.ResyncPeriod != "" && !resyncPeriodPattern.MatchString(gd.Spec.ResyncPeriod) {
		return gd.Name, fmt.Errorf("spec.resyncPeriod %q is not a duration", gd.Spec.ResyncPeriod)
	}
	var dashboard struct {
		UID   string `json:"uid"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(gd.Spec.JSON), &dashboard); err != nil {
		return gd.Name, fmt.Errorf("spec.json: %w", err)
	}
	if dashboard.UID == "" || dashboard.Title == "" {
		return gd.Name, errors.New("spec.json: the dashboard needs a uid and a title")
	}
	return gd.Name, nil
}

func validateJob(data []byte) (string, error) {
	var job batchv1.Job
	if err := strict(data, &job); err != nil {
		return "", err
	}
	if err := validateMeta(job.ObjectMeta); err != nil {
		return job.Name, err
	}
	if len(job.Spec.Template.Spec.Containers) == 0 {
		return job.Name, errors.New("spec.template.spec.containers is empty")
	}
	if job.Spec.CompletionMode != nil && *job.Spec.CompletionMode == batchv1.IndexedCompletion && job.Spec.Completions == nil {
		return job.Name, errors.New("an Indexed Job needs spec.completions")
	}
	return job.Name, nil
}

func validateConfigMap(data []byte) (string, error) {
	var cm corev1.ConfigMap
	if err := strict(data, &cm); err != nil {
		return "", err
	}
	if err := validateMeta(cm.ObjectMeta); err != nil {
		return cm.Name, err
	}
	total := 0
	for key, value := range cm.Data {
		for _, msg := range validation.IsConfigMapKey(key) {
			return cm.Name, fmt.Errorf("data[%s]: %s", key, msg)
		}
		total += len(key) + len(value)
	}
	if total > configMapMaxBytes {
		return cm.Name, fmt.Errorf("data is %d bytes, over a ConfigMap's %d", total, configMapMaxBytes)
	}
	return cm.Name, nil
}
