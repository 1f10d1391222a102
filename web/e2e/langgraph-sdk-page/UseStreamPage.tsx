// A test-only page (not part of the app): LangGraph's useStream hook from
// @langchain/langgraph-sdk/react against the API on this page's origin, its state written into
// the DOM for e2e/langgraph-sdk-react.spec.ts. ?thread=<id> reopens a thread.
import { useStream } from '@langchain/langgraph-sdk/react';
import { useState } from 'react';

function threadFromUrl(): string | null {
  return new URLSearchParams(window.location.search).get('thread');
}

export function UseStreamPage() {
  const [threadId, setThreadId] = useState(threadFromUrl);
  const [task, setTask] = useState('');
  const [feedback, setFeedback] = useState('');
  const stream = useStream<Record<string, unknown>>({
    apiUrl: window.location.origin,
    assistantId: 'travel_writer',
    threadId,
    onThreadId: (id) => {
      setThreadId(id);
      window.history.replaceState(null, '', `?thread=${id}`);
    },
  });
  return (
    <main>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void stream.submit({ messages: [{ type: 'human', content: task }] });
        }}
      >
        <input aria-label="Task" value={task} onChange={(e) => setTask(e.target.value)} />
        <button>Submit</button>
      </form>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void stream.submit(undefined, { command: { resume: feedback } });
        }}
      >
        <input aria-label="Feedback" value={feedback} onChange={(e) => setFeedback(e.target.value)} />
        <button>Resume</button>
      </form>
      <output data-testid="thread">{threadId ?? ''}</output>
      <output data-testid="loading">{String(stream.isLoading)}</output>
      <output data-testid="error">{stream.error ? String(stream.error) : ''}</output>
      <pre data-testid="interrupt">{JSON.stringify(stream.interrupt ?? null)}</pre>
      <pre data-testid="values">{JSON.stringify(stream.values)}</pre>
      <ol data-testid="messages">
        {stream.messages.map((m, i) => (
          <li key={m.id ?? i} data-type={m.type} data-node={stream.getMessagesMetadata(m, i)?.streamMetadata?.langgraph_node ?? ''}>
            {typeof m.content === 'string' ? m.content : JSON.stringify(m.content)}
          </li>
        ))}
      </ol>
    </main>
  );
}
