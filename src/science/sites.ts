/** The linear-input sites of a model (see InputSite in src/model/transformer.ts) and the linears each feeds. */
import { isGatedFfn, type ModelConfig } from '../model/config.js';
import type { InputSite } from '../model/transformer.js';

export const SITE_KINDS: ReadonlyArray<InputSite['kind']> = ['attn', 'o', 'ffn', 'down'];

export function siteKey(s: InputSite): string {
  return `layers.${s.layer}.${s.kind}`;
}

/** Every site, layer by layer, in forward order. */
export function allSites(c: ModelConfig): InputSite[] {
  return Array.from({ length: c.nLayers }, (_, layer) => SITE_KINDS.map((kind) => ({ layer, kind }))).flat();
}

/** Names of the projections that read a site's input. */
export function siteLinears(c: ModelConfig, s: InputSite): string[] {
  const p = `layers.${s.layer}.`;
  const gated = isGatedFfn(c);
  switch (s.kind) {
    case 'attn': return [`${p}q_proj`, `${p}k_proj`, `${p}v_proj`];
    case 'o': return [`${p}o_proj`];
    case 'ffn': return gated ? [`${p}gate_proj`, `${p}up_proj`] : [`${p}up_proj`];
    case 'down': return [`${p}down_proj`];
  }
}
