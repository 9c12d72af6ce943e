import { SEVERITIES, type Severity } from '../../config/index.js';

// Source of provisioning/alertmanager/templates/slack.tmpl. The Go templates read the labels and
// annotations every perfstack alert carries: severity, service, summary, description,
// runbook_url and dashboard_url.

/** Names of the Go templates that Slack receivers reference. */
export const SLACK_TEMPLATE_NAMES = {
  title: 'slack.perfstack.title',
  titleLink: 'slack.perfstack.titlelink',
  text: 'slack.perfstack.text',
  color: 'slack.perfstack.color',
  fallback: 'slack.perfstack.fallback',
} as const;

/** `{{ template "name" . }}`, the form a receiver field uses to call one of the templates above. */
export function callTemplate(name: string): string {
  return `{{ template "${name}" . }}`;
}

/** Attachment colour of a firing notification; a resolved one is always green. */
const FIRING_COLOR: Record<Severity, string> = {
  critical: 'danger',
  warning: 'warning',
  ticket: '#439FE0',
};
const RESOLVED_COLOR = 'good';

function colorTemplate(): string {
  const branches = SEVERITIES.map((severity) => `{{ else if eq .CommonLabels.severity "${severity}" }}${FIRING_COLOR[severity]}`).join('');
  return `{{ if eq .Status "resolved" }}${RESOLVED_COLOR}${branches}{{ else }}${FIRING_COLOR.warning}{{ end }}`;
}

/** The whole template file; the same every time, so the generated file is byte-stable. */
export function renderSlackTemplate(header: string): string {
  const { title, titleLink, text, color, fallback } = SLACK_TEMPLATE_NAMES;
  return `{{/* ${header} */}}

{{/* [FIRING:2] HighErrorRate (critical) or [RESOLVED:2] HighErrorRate (critical) */}}
{{ define "${title}" -}}
[{{ .Status | toUpper }}:{{ if eq .Status "firing" }}{{ .Alerts.Firing | len }}{{ else }}{{ .Alerts.Resolved | len }}{{ end }}] {{ .CommonLabels.alertname }}{{ with .CommonLabels.severity }} ({{ . }}){{ end }}{{ with .CommonLabels.service }} on {{ . }}{{ end }}
{{- end }}

{{/* The title links to the dashboard when every alert in the group shares one. */}}
{{ define "${titleLink}" }}{{ .CommonAnnotations.dashboard_url }}{{ end }}

{{ define "slack.perfstack.links" -}}
{{ with .Annotations.runbook_url }}<{{ . }}|Runbook>{{ end }}{{ if and .Annotations.runbook_url .Annotations.dashboard_url }} | {{ end }}{{ with .Annotations.dashboard_url }}<{{ . }}|Dashboard>{{ end }}
{{- end }}

{{ define "slack.perfstack.firing" -}}
:fire: *{{ .Annotations.summary }}*
{{ with .Annotations.description }}{{ . }}
{{ end }}{{ template "slack.perfstack.links" . }}
{{- end }}

{{ define "slack.perfstack.resolved" -}}
:white_check_mark: Resolved: *{{ .Annotations.summary }}*
{{ template "slack.perfstack.links" . }}
{{- end }}

{{/* Firing alerts first, then any in the same group that have resolved since the last message. */}}
{{ define "${text}" -}}
{{ range .Alerts.Firing }}{{ template "slack.perfstack.firing" . }}
{{ end }}{{ if and .Alerts.Firing .Alerts.Resolved }}
{{ end }}{{ range .Alerts.Resolved }}{{ template "slack.perfstack.resolved" . }}
{{ end }}
{{- end }}

{{ define "${color}" }}${colorTemplate()}{{ end }}

{{/* Plain text for notifications and clients that cannot show attachments. */}}
{{ define "${fallback}" }}{{ template "${title}" . }}{{ with .CommonAnnotations.summary }}: {{ . }}{{ end }}{{ end }}
`;
}
