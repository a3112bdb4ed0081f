// Package signing signs webhook deliveries the Standard Webhooks way
// (https://www.standardwebhooks.com): the webhook-signature header carries
// "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" for each active secret,
// so that receivers keep verifying while a job's secret is being rotated.
package signing
