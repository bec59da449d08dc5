// A small CRI client (what crictl is to kubelet's API) for the engine tests: @grpc/grpc-js over
// containerd's unix socket, messages from test/engines/cri/api.proto (the runtime.v1 subset we use).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { REPO } from './harness';

const PROTO = join(REPO, 'test', 'engines', 'cri', 'api.proto');

/** Messages as proto-loader gives them: camelCase fields, enums as names, 64-bit integers as strings. */
export type Msg = Record<string, any>;

type Unary = (req: Msg, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Msg) => void) => void;

const definition = () =>
  grpc.loadPackageDefinition(
    protoLoader.loadSync(PROTO, { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true }),
  ) as unknown as { runtime: { v1: Record<string, grpc.ServiceClientConstructor> } };

export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly image: grpc.Client;

  constructor(socket: string) {
    const pkg = definition().runtime.v1;
    const address = `unix://${socket}`;
    const creds = grpc.credentials.createInsecure();
    this.runtime = new pkg.RuntimeService!(address, creds);
    this.image = new pkg.ImageService!(address, creds);
  }

  private call(client: grpc.Client, method: string, req: Msg, timeoutMs: number): Promise<Msg> {
    const fn = (client as unknown as Record<string, Unary>)[method];
    if (!fn) throw new Error(`no CRI method ${method}`);
    return new Promise((resolve, reject) => {
      fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(Object.assign(new Error(`CRI ${method}: ${err.details || err.message}`), { code: err.code }));
        else resolve(res ?? {});
      });
    });
  }

  /** A RuntimeService call (`RunPodSandbox`, `ExecSync`, ...). */
  rt(method: string, req: Msg = {}, timeoutMs = 60_000): Promise<Msg> {
    return this.call(this.runtime, method, req, timeoutMs);
  }

  /** An ImageService call. */
  img(method: string, req: Msg = {}, timeoutMs = 30_000): Promise<Msg> {
    return this.call(this.image, method, req, timeoutMs);
  }

  close(): void {
    this.runtime.close();
    this.image.close();
  }
}
