#!/usr/bin/env bash
# One-step deploy, the Pulumi equivalent of the seed's deploy-monitoring.sh.
#
#   ENVIRONMENT=production            stack to deploy (Pulumi.<ENVIRONMENT>.yaml)   required
#   ALERTING_EMAIL=ops@hasivu.com      ops team email, subscribed to every tier      required
#   AWS_REGION=ap-south-1              region                                         required
#   SLACK_WEBHOOK_URL=https://hooks... Slack webhook, stored as a Pulumi secret       optional
#   PAGERDUTY_ENDPOINT=https://events.pagerduty.com/...  stored as a Pulumi secret    optional
#
# Needs the Pulumi CLI logged in (`pulumi login`) and AWS credentials for the account.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "deploy-monitoring: $*" >&2; exit 2; }
[ -n "${ENVIRONMENT:-}" ] || fail "ENVIRONMENT is not set (expected a stack name like production)"
[ -n "${ALERTING_EMAIL:-}" ] || fail "ALERTING_EMAIL is not set (expected an email like ops@hasivu.com)"
[ -n "${AWS_REGION:-}" ] || fail "AWS_REGION is not set (expected a region like ap-south-1)"
[[ "$ALERTING_EMAIL" =~ ^[^@[:space:]]+@[^@[:space:]]+\.[A-Za-z]{2,}$ ]] \
  || fail "ALERTING_EMAIL: got '$ALERTING_EMAIL'; expected an email address like ops@hasivu.com"
[ -f "Pulumi.${ENVIRONMENT}.yaml" ] || fail "ENVIRONMENT: got '$ENVIRONMENT'; expected a stack with a Pulumi.<stack>.yaml here"
command -v pulumi >/dev/null || fail "the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/)"

bash scripts/setup.sh
pulumi stack select "$ENVIRONMENT"
pulumi config set aws:region "$AWS_REGION"
for tier in critical warning business; do
  pulumi config set --path "alerting.${tier}.emails[0]" "$ALERTING_EMAIL"
done
# Secrets go in through stdin, so they never show in the process list or shell history.
if [ -n "${SLACK_WEBHOOK_URL:-}" ]; then
  printf '%s' "$SLACK_WEBHOOK_URL" | pulumi config set --secret slackWebhookUrl
  pulumi config set --path alerting.warning.slack webhook
fi
if [ -n "${PAGERDUTY_ENDPOINT:-}" ]; then
  printf '%s' "$PAGERDUTY_ENDPOINT" | pulumi config set --secret pagerdutyEndpoint
fi

policy=(--policy-pack policy)
[ -f "policy/config/${ENVIRONMENT}.json" ] && policy+=(--policy-pack-config "policy/config/${ENVIRONMENT}.json")
venv/bin/python -m preflight --stack "$ENVIRONMENT"
pulumi preview --stack "$ENVIRONMENT" "${policy[@]}"
pulumi up --stack "$ENVIRONMENT" --yes "${policy[@]}"
