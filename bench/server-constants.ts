/** Shared by the server bench's runner and its servers. */
export const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };
export const PASSWORD = 'correct horse battery staple';
