// The useStream test page's entry (see UseStreamPage.tsx and vite.config.ts beside it).
import { createRoot } from 'react-dom/client';

import { UseStreamPage } from './UseStreamPage';

createRoot(document.getElementById('root') as HTMLElement).render(<UseStreamPage />);
