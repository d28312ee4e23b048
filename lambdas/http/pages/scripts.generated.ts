// PLACEHOLDER — replaced by `npm run build` (scripts/build.ts) from sdk/src/frame/.
export const FRAME_SCRIPT = "";
export const FRAME_SCRIPT_HASH = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
export const WORKSPACE_SCRIPT = "";
export const WORKSPACE_SCRIPT_HASH = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
export const ENTER_SCRIPT = "";
export const ENTER_SCRIPT_HASH = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
