import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Scope, Session } from './api';

export const SessionContext = createContext<Session>({ name: '', scopes: [], allQueues: false, auth: true });

/** Whether the signed-in token has a scope: action buttons render only when it does. */
export function useCan(scope: Scope): boolean {
  return useContext(SessionContext).scopes.includes(scope);
}
export const useSession = () => useContext(SessionContext);
