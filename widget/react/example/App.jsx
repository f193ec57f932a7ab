// A minimal React app with the AgentPay chat widget (not built in this repository: copy it into
// a Vite or Next.js app that has react and @agentpay/react).
import { useState } from 'react';
import { AgentPayChat } from '@agentpay/react';

export default function App() {
  const [chatOpen, setChatOpen] = useState(false);
  return (
    <main>
      <h1>Trailborne outdoor store</h1>
      <button type="button" onClick={() => setChatOpen(true)}>
        Ask our shopping assistant
      </button>
      <AgentPayChat
        publishableKey="pk_live_replace_me"
        apiBase="https://engine.example"
        lang="en"
        open={chatOpen}
      />
    </main>
  );
}
