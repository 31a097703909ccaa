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
        httpGet:
          path: /-/healthy
          port: http
        {{- with $values.startupProbe }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      livenessProbe:
        httpGet:
          path: /-/healthy
          port: http
        {{- with $values.livenessProbe }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      readinessProbe:
        httpGet:
          path: /-/ready
          port: http
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
