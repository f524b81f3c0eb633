// A raw worker for the baselines: answers each message with no framework.
// - a number: replies with its square (one message per task);
// - an array of numbers: replies with the array of squares (a batch);
// - { x, ms }: burns `ms` of CPU, replies with x.
const scope = self as unknown as {
  onmessage: (event: MessageEvent) => void;
  postMessage(message: unknown): void;
};

scope.onmessage = (event: MessageEvent) => {
  const data = event.data;
  if (typeof data === "number") {
    scope.postMessage(data * data);
  } else if (Array.isArray(data)) {
    const out = data.slice(); // packed: new Array(n) is slow to clone
    for (let i = 0; i < data.length; i++) out[i] = data[i] * data[i];
    scope.postMessage(out);
  } else {
    const end = performance.now() + data.ms;
    while (performance.now() < end) {
      // busy
    }
    scope.postMessage(data.x);
  }
};
