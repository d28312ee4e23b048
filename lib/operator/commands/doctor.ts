/**
 * `doctor origin <partnerId> <origin>`: may a page on `origin` embed the
 * partner? Decided by the gateway's own `embeddability` (lambdas/core), worded
 * by the SDK's `explain` (sdk/src/diagnose.ts): the same answer and message
 * the public endpoint GET /embed/{id}/embeddable gives the SDK in a browser.
 */
import { originProblem } from "../../../config/schema.ts";
import { embeddability } from "../../../lambdas/core/embeddable.ts";
import { explain } from "../../../sdk/src/diagnose.ts";
import { positionals } from "../args.ts";
import { type Command, ENV_OPTIONS, envFlags } from "../command.ts";
import { selectEnvironment } from "../environment.ts";
import { columns, EXIT, usageError } from "../io.ts";

const origin: Command = {
  name: "doctor origin",
  usage: "doctor origin <partnerId> <origin> [--env <env>] [--config <file>] [--json]",
  summary: "Say whether a page on <origin> may embed the partner, and if not, why (exit 0 only if it may).",
  details:
    "The answer of GET /embed/<partnerId>/embeddable?origin=<origin> for the environment's partner file: partner known | unknown | disabled, origin allowed | not-allowed.",
  options: { ...ENV_OPTIONS },
  examples: ["jupid-embed doctor origin acme-books https://books.acme.example --env production", "jupid-embed doctor origin acme-books http://localhost:8000"],
  async run(args, { io, out }) {
    const [partnerId, pageOrigin] = positionals(args, ["partnerId", "origin"], "doctor origin") as [string, string];
    const problem = originProblem(pageOrigin);
    if (problem) throw usageError(problem, "pass the page's origin: scheme://host[:port], as the browser's address bar shows it");
    const selected = selectEnvironment(envFlags(args), io);
    const partner = selected.config.partners.find((p) => p.id === partnerId);
    const answer = embeddability(partner, pageOrigin, selected.name);
    const verdict = explain(answer, selected.config.appUrl, partnerId, pageOrigin);
    if (out.json) {
      out.printJson({ ...answer, partnerId, pageOrigin, appUrl: selected.config.appUrl, ...(verdict ? { code: verdict.code, message: verdict.message } : {}) });
    } else {
      out.print(
        columns([
          ["Partner", `${partnerId}: ${answer.partner}`],
          ["Origin", `${pageOrigin}: ${answer.origin}`],
          ["Environment", `${selected.name} (${selected.file})`],
          ["Verdict", verdict ? `${verdict.code}: ${verdict.message}` : `OK: ${pageOrigin} may embed partner ${partnerId}`],
          ...(verdict?.code === "ORIGIN_NOT_ALLOWED" && partner
            ? [["Allowed", partner.allowedOrigins.join(" ")], ["Fix", `add "${pageOrigin}" to allowedOrigins in ${selected.file} and deploy`]]
            : []),
        ]),
      );
    }
    return verdict ? EXIT.FAILED : EXIT.OK;
  },
};

export const doctorCommands: readonly Command[] = [origin];
