import type { Announcement } from '../lib/threadView';

/** Says each finished step, pause, completion and error to screen readers, once each. */
export function LiveAnnouncer({ announcements }: { announcements: Announcement[] }) {
  return (
    <div className="visually-hidden" role="log" aria-live="polite" aria-relevant="additions" data-testid="announcer">
      {announcements.map((a) => (
        <p key={a.id}>{a.text}</p>
      ))}
    </div>
  );
}
