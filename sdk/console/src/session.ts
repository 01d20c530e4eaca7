// The signed-in user: tokens live in sessionStorage (this tab only, gone when
// it closes), the access token is refreshed once when a call says
// UNAUTHENTICATED, and every page talks to the bank through `bank`.

import { BankError, Code, Role, createBankClient, type User } from "@bank/sdk";

const STORAGE_KEY = "bank.session";

interface Stored {
  accessToken: string;
  refreshToken: string;
  userId: string;
  email: string;
  admin: boolean;
}

function load(): Stored | undefined {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw === null ? undefined : (JSON.parse(raw) as Stored);
  } catch {
    return undefined;
  }
}

let current: Stored | undefined = load();

/** The gateway serves this page, so the bank is at the same origin. */
export const bank = createBankClient({
  baseUrl: location.origin,
  token: () => current?.accessToken,
});

export function signedIn(): Stored | undefined {
  return current;
}

export function isAdmin(): boolean {
  return current?.admin === true;
}

export function startSession(tokens: { accessToken: string; refreshToken: string }, user: User): void {
  current = {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    userId: user.id,
    email: user.email,
    admin: user.roles.includes(Role.ADMIN),
  };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(current));
}

export function endSession(): void {
  current = undefined;
  sessionStorage.removeItem(STORAGE_KEY);
}

let refreshing: Promise<boolean> | undefined;

/** Trades the refresh token for new tokens once; false when the session is over. */
async function refresh(): Promise<boolean> {
  const session = current;
  if (session === undefined || session.refreshToken === "") return false;
  refreshing ??= (async () => {
    try {
      const { tokens } = await bank.auth.refreshToken({ refreshToken: session.refreshToken });
      if (tokens === undefined) return false;
      current = { ...session, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(current));
      return true;
    } catch {
      endSession();
      return false;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

/** Runs a call; on UNAUTHENTICATED refreshes the token once and runs it again. */
export async function call<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof BankError && error.code === Code.Unauthenticated && (await refresh())) {
      return run();
    }
    if (error instanceof BankError && error.code === Code.Unauthenticated) {
      endSession();
      location.hash = "#/login";
    }
    throw error;
  }
}
