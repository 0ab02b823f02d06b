#!/usr/bin/env bash
# One-step deploy of the monitoring stack with the Pulumi CLI. Safe to re-run.
#
#   ENVIRONMENT=production            stack to deploy (Pulumi.<ENVIRONMENT>.yaml)   required
#   ALERTING_EMAIL=ops@hasivu.com      ops team email, added to every tier's emails  required
#   AWS_REGION=ap-south-1              region; must be the stack file's aws:region    required
#   SLACK_WEBHOOK_URL=https://hooks... Slack webhook, stored as a Pulumi secret       optional
#   PAGERDUTY_ENDPOINT=https://events.pagerduty.com/...  stored as a Pulumi secret    optional
#   SECRETS_PROVIDER=passphrase        secrets provider when the stack is created     optional
#                                      (default: the backend's: Pulumi Cloud's service,
#                                      the passphrase on a file:// or s3:// backend)
#   PULUMI_CONFIG_PASSPHRASE(_FILE)    required when the stack uses the passphrase provider
#
# Needs the Pulumi CLI logged in (`pulumi login`) and AWS credentials for the account.
# Creates the stack on the first run (`pulumi stack select --create`); adds ALERTING_EMAIL to each
# tier only where it is missing, keeping the committed contacts; sets `slack: webhook` only on a
# tier with no Slack mapping (a Chatbot channel stays). Secrets reach the CLI on stdin only.
# It never changes a committed setting: it writes only keys the stack file lacks, and secrets.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "deploy-monitoring: $*" >&2; exit 2; }
[ -n "${ENVIRONMENT:-}" ] || fail "ENVIRONMENT is not set (expected a stack name like production)"
[ -n "${ALERTING_EMAIL:-}" ] || fail "ALERTING_EMAIL is not set (expected an email like ops@hasivu.com)"
[ -n "${AWS_REGION:-}" ] || fail "AWS_REGION is not set (expected a region like ap-south-1)"
[[ "$ALERTING_EMAIL" =~ ^[^@[:space:]]+@[^@[:space:]]+\.[A-Za-z]{2,}$ ]] \
  || fail "ALERTING_EMAIL: got '$ALERTING_EMAIL'; expected an email address like ops@hasivu.com"
stack_file="Pulumi.${ENVIRONMENT}.yaml"
if [ ! -f "$stack_file" ]; then
  stacks=""
  for file in Pulumi.*.yaml; do
    [ -f "$file" ] || continue
    name=${file#Pulumi.}
    stacks+="${stacks:+, }${name%.yaml}"
  done
  fail "ENVIRONMENT: got '$ENVIRONMENT'; expected a stack with a Pulumi.<stack>.yaml here" \
    "(stacks here: ${stacks:-none})"
fi
command -v pulumi >/dev/null || fail "the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/)"

bash scripts/setup.sh
py=venv/bin/python

# aws:region is a committed stack setting: an AWS_REGION other than the stack file's stops the deploy
# here, before any CLI call, rather than moving the stack to another Region. A stack file without
# aws:region gets AWS_REGION once the stack is selected: nothing committed is overwritten.
committed_region=$("$py" -c '
import sys
import yaml
try:
    document = yaml.safe_load(open(sys.argv[1])) or {}
except yaml.YAMLError as error:
    print("deploy-monitoring: %s: not valid YAML: %s" % (sys.argv[1], " ".join(str(error).split())), file=sys.stderr)
    sys.exit(2)
print((document.get("config") or {}).get("aws:region") or "")' "$stack_file") || exit 2
if [ -n "$committed_region" ] && [ "$committed_region" != "$AWS_REGION" ]; then
  fail "AWS_REGION is $AWS_REGION but $stack_file has aws:region: $committed_region, and a deploy never" \
    "changes a committed setting; to move the stack to $AWS_REGION on purpose, edit aws:region in $stack_file" \
    "(or run \`pulumi config set aws:region $AWS_REGION --stack $ENVIRONMENT\`) and commit it; otherwise run" \
    "with AWS_REGION=$committed_region"
fi

# The passphrase provider needs PULUMI_CONFIG_PASSPHRASE (set, even empty) or a non-empty
# PULUMI_CONFIG_PASSPHRASE_FILE; without them the CLI would prompt, which fails in a script
# (pulumi/pulumi pkg/secrets/passphrase/manager.go). Decide before anything changes.
backend_url=$(pulumi whoami --json | "$py" -c 'import json, sys; print(json.load(sys.stdin)["url"])') \
  || fail "pulumi whoami failed: log in first (pulumi login)"
provider=${SECRETS_PROVIDER:-default}
if grep -Eq '^encryptionsalt:|^secretsprovider: *passphrase' "$stack_file"; then
  provider=passphrase
elif grep -Eq '^secretsprovider:' "$stack_file"; then
  provider=$(sed -n 's/^secretsprovider: *//p' "$stack_file")
elif [ "$provider" = default ] && [[ "$backend_url" != https://* ]]; then
  provider=passphrase
fi
if [ "$provider" = passphrase ] && [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] \
    && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  fail "stack $ENVIRONMENT uses the passphrase secrets provider (backend $backend_url); set" \
    "PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE"
fi

# --secrets-provider only matters when the stack is created (pkg/cmd/pulumi/stack/stack_select.go).
pulumi stack select --create --secrets-provider "$provider" "$ENVIRONMENT"
[ -n "$committed_region" ] || pulumi config set aws:region "$AWS_REGION"

# config_json PATH: the value at PATH as JSON, or nothing when the key is absent; any other failure stops.
config_json() {
  local out
  if out=$(pulumi config get --path "$1" --json 2>&1); then
    printf '%s' "$out" | "$py" -c 'import json, sys; d = json.load(sys.stdin); print(json.dumps(d.get("objectValue", d.get("value"))))'
  elif [[ "$out" == *"not found"* ]]; then
    return 0
  else
    fail "pulumi config get --path $1: $out"
  fi
}

for tier in critical warning business; do
  emails=$(config_json "alerting.${tier}.emails")
  count=$(printf '%s' "${emails:-[]}" | "$py" -c '
import json, sys
emails = json.load(sys.stdin)
if not isinstance(emails, list):
    print("deploy-monitoring: alerting.'"$tier"'.emails: got %r; expected a list of emails" % (emails,), file=sys.stderr)
    sys.exit(2)
print(-1 if sys.argv[1] in emails else len(emails))' "$ALERTING_EMAIL")
  # Index len(list) appends (pulumi config set --path); a smaller index would replace a contact.
  [ "$count" = -1 ] || pulumi config set --path "alerting.${tier}.emails[${count}]" "$ALERTING_EMAIL"
done

# Secrets go in through stdin (printf is a shell builtin), so they never show in the process list.
if [ -n "${SLACK_WEBHOOK_URL:-}" ]; then
  printf '%s' "$SLACK_WEBHOOK_URL" | pulumi config set --secret slackWebhookUrl
  slack=$(config_json alerting.warning.slack)
  if [ -z "$slack" ]; then
    pulumi config set --path alerting.warning.slack webhook
  elif [ "$slack" != '"webhook"' ]; then
    echo "deploy-monitoring: alerting.warning.slack is already a Slack channel mapping; keeping it" >&2
  fi
fi
if [ -n "${PAGERDUTY_ENDPOINT:-}" ]; then
  printf '%s' "$PAGERDUTY_ENDPOINT" | pulumi config set --secret pagerdutyEndpoint
fi

policy=(--policy-pack policy)
[ -f "policy/config/${ENVIRONMENT}.json" ] && policy+=(--policy-pack-config "policy/config/${ENVIRONMENT}.json")
"$py" -m preflight --stack "$ENVIRONMENT"
pulumi preview --stack "$ENVIRONMENT" "${policy[@]}"
pulumi up --stack "$ENVIRONMENT" --yes "${policy[@]}"
