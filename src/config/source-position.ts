// Turns character offsets in a definition's text into 1-based line and column numbers for problem messages.

export interface Position {
  line: number;
  column: number;
}

export interface LineIndex {
  position(offset: number): Position;
}

/** Builds the table of line starts on first use: most definitions load without a single problem. */
export function createLineIndex(text: string): LineIndex {
  let starts: number[] | undefined;
  return {
    position(offset: number): Position {
      if (!starts) {
        starts = [0];
        for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
      }
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= offset) lo = mid;
        else hi = mid - 1;
      }
      return { line: lo + 1, column: offset - starts[lo] + 1 };
    },
  };
}
