import { IncomingWebhook } from "@slack/webhook";

// Slack alerts for the payout team, posted to SLACK_PAYOUT_WEBHOOK_URL by the outbox relay only.

const hooks = new Map<string, IncomingWebhook>();

export async function postToSlack(webhookUrl: string, message: { text: string; blocks?: unknown[] }): Promise<void> {
  let hook = hooks.get(webhookUrl);
  if (!hook) {
    hook = new IncomingWebhook(webhookUrl, { timeout: 10_000 } as never);
    hooks.set(webhookUrl, hook);
  }
  await hook.send({ text: message.text, ...(message.blocks ? { blocks: message.blocks as never } : {}) });
}
