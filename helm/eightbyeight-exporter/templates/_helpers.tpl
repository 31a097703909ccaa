{{/*
Expand the name of the chart.
*/}}
{{- define "eightbyeight-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name, truncated at 63 characters (DNS label limit).
If the release name contains the chart name it is used as the full name.
Service names must start with a letter (DNS-1035): a release named like "8x8" gives
"eightbyeight-exporter-8x8" rather than the invalid "8x8-eightbyeight-exporter".
*/}}
{{- define "eightbyeight-exporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else if regexMatch "^[a-z]" .Release.Name }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" $name .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "eightbyeight-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Namespace of the resources.
*/}}
{{- define "eightbyeight-exporter.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "eightbyeight-exporter.labels" -}}
helm.sh/chart: {{ include "eightbyeight-exporter.chart" . }}
{{ include "eightbyeight-exporter.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: eightbyeight-exporter
{{- end }}

{{/*
Selector labels
*/}}
{{- define "eightbyeight-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eightbyeight-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Create the name of the service account to use
*/}}
{{- define "eightbyeight-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "eightbyeight-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Name of the Secret holding the credentials: the existing one, or the chart's.
*/}}
{{- define "eightbyeight-exporter.secretName" -}}
{{- if .Values.existingSecret.name }}
{{- .Values.existingSecret.name }}
{{- else }}
{{- include "eightbyeight-exporter.fullname" . }}
{{- end }}
{{- end }}

{{/*
The credentials: value name (under .Values.credentials and .Values.existingSecret.keys) to the
environment variable the exporter reads. The chart's Secret uses the variable names as keys.
*/}}
{{- define "eightbyeight-exporter.credentialVariables" -}}
apiKey: EIGHTBYEIGHT_API_KEY
username: EIGHTBYEIGHT_USERNAME
password: EIGHTBYEIGHT_PASSWORD
ccClientId: EIGHTBYEIGHT_CC_CLIENT_ID
ccClientSecret: EIGHTBYEIGHT_CC_CLIENT_SECRET
{{- end }}

{{/*
Name of the StatefulSet: at most 52 characters, because its pods carry the label
controller-revision-hash=<name>-<10-character hash>, limited to 63.
*/}}
{{- define "eightbyeight-exporter.statefulSetName" -}}
{{- include "eightbyeight-exporter.fullname" . | trunc 52 | trimSuffix "-" }}
{{- end }}

{{/*
Name of the headless Service governing the StatefulSet.
*/}}
{{- define "eightbyeight-exporter.headlessServiceName" -}}
{{- printf "%s-headless" (include "eightbyeight-exporter.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}

{{/*
The image reference: repository:tag, or repository@digest when a digest is set.
*/}}
{{- define "eightbyeight-exporter.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}
