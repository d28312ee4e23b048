/** Environment-level settings the handlers need: the partner file without its partners. */
import { type EnvironmentConfig, parseEnvironmentConfig } from "../../config/schema.ts";

export type GatewaySettings = Omit<EnvironmentConfig, "partners">;

export function settingsOf(config: EnvironmentConfig): GatewaySettings {
  const { partners: _partners, ...settings } = config;
  return settings;
}

/** Parse the JSON the CDK stack puts in `JUPID_SETTINGS`; `source` names it in errors. */
export function parseSettings(json: string, source = "JUPID_SETTINGS"): GatewaySettings {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (cause) {
    throw new Error(`${source} is not valid JSON`, { cause });
  }
  return settingsOf(parseEnvironmentConfig({ ...(value as object), partners: [] }, source));
}
