{{/* Names and labels shared by every template. */}}

{{- define "netboot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The resource name prefix: fullnameOverride, else the release name when it contains the chart name, else release-chart. */}}
{{- define "netboot.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "netboot.labels" -}}
app.kubernetes.io/name: {{ include "netboot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: netboot-operator
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Selector of the controller pods: labels that never change across upgrades. */}}
{{- define "netboot.controllerSelector" -}}
app.kubernetes.io/name: {{ include "netboot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "netboot.controllerServiceAccount" -}}
{{- default (printf "%s-controller" (include "netboot.fullname" .)) .Values.controller.serviceAccount.name -}}
{{- end -}}

{{- define "netboot.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The namespaces that get an agent ServiceAccount: the release namespace and agent.namespaces, once each. */}}
{{- define "netboot.agentNamespaces" -}}
{{- $namespaces := list .Release.Namespace -}}
{{- range .Values.agent.namespaces -}}
{{- $namespaces = append $namespaces . -}}
{{- end -}}
{{- $namespaces | uniq | toJson -}}
{{- end -}}
