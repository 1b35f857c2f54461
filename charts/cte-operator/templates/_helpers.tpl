{{/* Names, labels and the checks every template relies on. */}}

{{- define "cte-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every object's name: 63 characters at most (DNS label). */}}
{{- define "cte-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels on every object. helm.sh/chart only when Helm renders (not in the kustomize base). */}}
{{- define "cte-operator.labels" -}}
{{ include "cte-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/part-of: cte-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- if eq .Release.Service "Helm" }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Labels that select the operator's pods; never change them on upgrade. */}}
{{- define "cte-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cte-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cte-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cte-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: set the name of an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "cte-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "cte-operator.watchNamespace" -}}
{{- default .Release.Namespace .Values.rbac.watchNamespace }}
{{- end }}

{{- define "cte-operator.leaderElectionNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{- define "cte-operator.leaderElectionID" -}}
{{- default (printf "%s.cte.netskope.io" (include "cte-operator.fullname" .)) .Values.leaderElection.id }}
{{- end }}

{{- define "cte-operator.ingestTLSSecretName" -}}
{{- default (printf "%s-ingest-tls" (include "cte-operator.fullname" .)) .Values.ingest.tls.secretName }}
{{- end }}

{{- define "cte-operator.dataClaimName" -}}
{{- default (printf "%s-data" (include "cte-operator.fullname" .)) .Values.store.persistence.existingClaim }}
{{- end }}

{{- define "cte-operator.terminationGracePeriodSeconds" -}}
{{- $drain := int .Values.shutdown.drainSeconds }}
{{- $grace := int .Values.shutdown.terminationGracePeriodSeconds }}
{{- if eq $grace 0 }}
{{- add $drain 10 }}
{{- else if le $grace $drain }}
{{- fail (printf "shutdown.terminationGracePeriodSeconds: %d must be above shutdown.drainSeconds (%d), or the kubelet kills the operator in the middle of its drain" $grace $drain) }}
{{- else }}
{{- $grace }}
{{- end }}
{{- end }}

{{/*
Combinations the schema cannot express. Included by the Deployment so every render checks them.
*/}}
{{- define "cte-operator.validate" -}}
{{- $replicas := int .Values.replicaCount }}
{{- if gt $replicas 1 }}
{{- if ne .Values.store.type "postgres" }}
{{- fail (printf "replicaCount: %d replicas need store.type=postgres; the SQLite store lives on one ReadWriteOnce volume and serves one pod" $replicas) }}
{{- end }}
{{- if not .Values.leaderElection.enabled }}
{{- fail (printf "leaderElection.enabled: must be true with replicaCount %d, or every replica would push to the tenants" $replicas) }}
{{- end }}
{{- end }}
{{- if eq .Values.store.type "postgres" }}
{{- if not .Values.store.postgres.urlSecret.name }}
{{- fail "store.postgres.urlSecret.name: name the Secret that holds the PostgreSQL URL when store.type is postgres" }}
{{- end }}
{{- end }}
{{- if and .Values.ingest.enabled .Values.ingest.tls.create }}
{{- if not (and .Values.ingest.tls.cert .Values.ingest.tls.key) }}
{{- fail "ingest.tls.cert, ingest.tls.key: both PEM values are required when ingest.tls.create is true" }}
{{- end }}
{{- if not (contains "-----BEGIN CERTIFICATE-----" .Values.ingest.tls.cert) }}
{{- fail "ingest.tls.cert: not a PEM certificate (no BEGIN CERTIFICATE line)" }}
{{- end }}
{{- if not (regexMatch "-----BEGIN (RSA |EC )?PRIVATE KEY-----" .Values.ingest.tls.key) }}
{{- fail "ingest.tls.key: not a PEM private key (no BEGIN PRIVATE KEY line)" }}
{{- end }}
{{- end }}
{{- with .Values.podDisruptionBudget }}
{{- if and .enabled (toString (default "" .minAvailable)) (toString (default "" .maxUnavailable)) }}
{{- fail "podDisruptionBudget: set minAvailable or maxUnavailable, not both" }}
{{- end }}
{{- if and .enabled (regexMatch "^[0-9]+$" (toString (default "" .minAvailable))) }}
{{- if ge (int .minAvailable) $replicas }}
{{- fail (printf "podDisruptionBudget.minAvailable: %d with replicaCount %d would block every node drain" (int .minAvailable) $replicas) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
