{{/*
The pod template shared by the Deployment (sharding off) and the StatefulSet (sharding on).
Called with a dict: "root" (the top-level context) and "args" (the workload's own flags, the
StatefulSet's sharding flags).
*/}}
{{- define "eightbyeight-exporter.podTemplate" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
metadata:
  annotations:
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    {{- if not $values.existingSecret.name }}
    checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
    {{- end }}
    {{- with $values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  labels:
    {{- include "eightbyeight-exporter.labels" $root | nindent 4 }}
    {{- with $values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "eightbyeight-exporter.serviceAccountName" $root }}
  automountServiceAccountToken: {{ $values.serviceAccount.automountServiceAccountToken }}
  # No Service environment variables: the exporter does not use them.
  enableServiceLinks: false
  {{- with $values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  securityContext:
    {{- toYaml $values.podSecurityContext | nindent 4 }}
  terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
  containers:
    - name: exporter
      image: {{ include "eightbyeight-exporter.image" $root | quote }}
      imagePullPolicy: {{ $values.image.pullPolicy }}
      args:
        - --config.file=/etc/eightbyeight-exporter/config.yaml
        - --web.listen-address=:9878
        - --log.level={{ $values.log.level }}
        - --log.format={{ $values.log.format }}
        {{- if $values.webConfig.existingSecret }}
        - --web.config.file=/etc/eightbyeight-exporter-web/{{ $values.webConfig.key }}
        {{- end }}
        {{- if $values.demo }}
        - --demo
        {{- end }}
        {{- range .args }}
        - {{ . | quote }}
        {{- end }}
        {{- range $values.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      {{- $credentialEnv := include "eightbyeight-exporter.credentialEnv" $root | trim }}
      {{- if or $credentialEnv $values.extraEnv }}
      env:
        {{- with $credentialEnv }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- with $values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- end }}
      {{- with $values.extraEnvFrom }}
      envFrom:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      ports:
        - name: http
          containerPort: 9878
          protocol: TCP
      startupProbe:
        {{- include "eightbyeight-exporter.probeCheck" (dict "probes" $values.probes "path" "/-/healthy") | nindent 8 }}
        {{- with $values.startupProbe }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      livenessProbe:
        {{- include "eightbyeight-exporter.probeCheck" (dict "probes" $values.probes "path" "/-/healthy") | nindent 8 }}
        {{- with $values.livenessProbe }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      readinessProbe:
        {{- include "eightbyeight-exporter.probeCheck" (dict "probes" $values.probes "path" "/-/ready") | nindent 8 }}
        {{- with $values.readinessProbe }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      securityContext:
        {{- toYaml $values.securityContext | nindent 8 }}
      {{- with $values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: config
          mountPath: /etc/eightbyeight-exporter
          readOnly: true
        # Python needs a writable /tmp; the root file system is read-only.
        - name: tmp
          mountPath: /tmp
        {{- if $values.webConfig.existingSecret }}
        - name: web-config
          mountPath: /etc/eightbyeight-exporter-web
          readOnly: true
        {{- end }}
        {{- with $values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "eightbyeight-exporter.fullname" $root }}
    - name: tmp
      {{- if $values.tmpSizeLimit }}
      emptyDir:
        sizeLimit: {{ $values.tmpSizeLimit }}
      {{- else }}
      emptyDir: {}
      {{- end }}
    {{- with $values.webConfig.existingSecret }}
    # The web config and the files it names (certificate, key, CAs). The exporter notices the
    # kubelet's update of the Secret (a symlink swap) and reloads them; a change that lowers
    # the protection is refused until a restart.
    - name: web-config
      secret:
        secretName: {{ . }}
        # 0440 (written in decimal: YAML 1.2 readers take 0440 as a decimal number): the
        # private key readable by the pod's fsGroup (the exporter's group) only.
        defaultMode: 288
    {{- end }}
    {{- with $values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
The credential environment variables, each from the Secret through secretKeyRef (never a
literal value): with an existing Secret every configured key, optional; with the chart's
Secret the credentials given in values.
*/}}
{{- define "eightbyeight-exporter.credentialEnv" -}}
{{- $values := .Values -}}
{{- $secretName := include "eightbyeight-exporter.secretName" . -}}
{{- $variables := include "eightbyeight-exporter.credentialVariables" . | fromYaml -}}
{{- range $field, $variable := $variables }}
{{- if $values.existingSecret.name }}
{{- with index $values.existingSecret.keys $field }}
- name: {{ $variable }}
  valueFrom:
    secretKeyRef:
      name: {{ $secretName | quote }}
      key: {{ . | quote }}
      optional: true
{{- end }}
{{- else if index $values.credentials $field }}
- name: {{ $variable }}
  valueFrom:
    secretKeyRef:
      name: {{ $secretName | quote }}
      key: {{ $variable }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The check of a probe: a GET of "path" (HTTP or HTTPS), or a TCP connect when basic auth is on
(the exporter asks for credentials on every path, and a probe cannot take them from a
Secret). Called with a dict: "probes" (.Values.probes) and "path".
*/}}
{{- define "eightbyeight-exporter.probeCheck" -}}
{{- if eq .probes.type "tcpSocket" -}}
tcpSocket:
  port: http
{{- else -}}
httpGet:
  path: {{ .path }}
  port: http
  scheme: {{ .probes.scheme }}
{{- end }}
{{- end }}
