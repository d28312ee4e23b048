/**
 * The environment settings of a Lambda function, from `JUPID_SETTINGS` (set
 * by the CDK stack), parsed once per process. No AWS import: the health
 * handler needs only this.
 */
import { type GatewaySettings, parseSettings } from "../core/settings.ts";

let settings: GatewaySettings | undefined;

/** The parsed `JUPID_SETTINGS`; throws when it is missing or invalid. */
export function lambdaSettings(): GatewaySettings {
  if (!settings) {
    const json = process.env.JUPID_SETTINGS;
    if (!json) throw new Error("JUPID_SETTINGS is not set");
    settings = parseSettings(json);
  }
  return settings;
}
