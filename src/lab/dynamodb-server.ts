/** dynalite, a DynamoDB implementation, in process on a loopback port, for the tests and the lab. */
import dynalite from 'dynalite';

export interface DynamoServer {
  url: string;
  stop(): Promise<void>;
}

export async function startDynalite(port: number): Promise<DynamoServer> {
  // Tables become ACTIVE at once: the tests wait for conditions, not for table creation.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
