/** Driving the demo page in tests (test/web/*): its `window.bitnetDemo` state, loading a model, one greedy generation. */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { GenerationResult, ModelInfo } from '../../web/protocol.js';

export type Demo = { info: ModelInfo | undefined; result: GenerationResult | undefined; error: string | undefined; progress?: { done: number; total: number } | undefined };

export const demo = (page: Page): Promise<Demo> => page.evaluate(() => (window as unknown as { bitnetDemo: Demo }).bitnetDemo);

/** Run `action` (which makes the page load a model) and wait until the model is loaded or has failed. */
export async function loadVia(page: Page, action: () => Promise<unknown>, timeout = 60_000): Promise<Demo> {
  await page.evaluate(() => Object.assign((window as unknown as { bitnetDemo?: Demo }).bitnetDemo ?? {}, { info: undefined, error: undefined }));
  await action();
  await page.waitForFunction(() => {
    const d = (window as unknown as { bitnetDemo?: Demo }).bitnetDemo;
    return ['ready', 'error'].includes(document.body.dataset.state ?? '') && d !== undefined && (d.info !== undefined || d.error !== undefined);
  }, null, { timeout });
  return demo(page);
}

/** Type the prompt, press Generate (greedy, `maxTokens`), wait for the end; the page's result. */
export async function generateInPage(page: Page, prompt: string, maxTokens: number, timeout = 60_000): Promise<GenerationResult> {
  await page.fill('#prompt', prompt);
  await page.fill('#max-tokens', String(maxTokens));
  await page.fill('#temperature', '0');
  await page.evaluate(() => ((window as unknown as { bitnetDemo: Demo }).bitnetDemo.result = undefined));
  await page.click('#generate');
  await page.waitForFunction(() => {
    const d = (window as unknown as { bitnetDemo: Demo }).bitnetDemo;
    return document.body.dataset.state === 'ready' && (d.result !== undefined || d.error !== undefined);
  }, null, { timeout });
  const d = await demo(page);
  assert.equal(d.error, undefined);
  assert.ok(d.result, 'no result');
  return d.result;
}
