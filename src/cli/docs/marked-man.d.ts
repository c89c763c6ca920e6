// marked-man ships no types: it is a marked extension object plus man-page options (date, manVersion, manual).
declare module 'marked-man' {
  import type { MarkedExtension } from 'marked';
  const markedMan: MarkedExtension & Record<string, unknown>;
  export default markedMan;
}
