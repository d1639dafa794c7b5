// Entry of the reference app's bundle: React with @elevenlabs/react's ConversationProvider.
import { ConversationProvider } from '@elevenlabs/react';
import { createRoot } from 'react-dom/client';
import { App } from './app';

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <ConversationProvider>
      <App />
    </ConversationProvider>,
  );
