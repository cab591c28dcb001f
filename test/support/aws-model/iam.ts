import {
  type AccessKeyMetadata,
  ConcurrentModificationException,
  DeleteLoginProfileCommand,
  type DeleteLoginProfileCommandInput,
  DeleteRolePolicyCommand,
  type DeleteRolePolicyCommandInput,
  DeleteUserPolicyCommand,
  type DeleteUserPolicyCommandInput,
  EntityTemporarilyUnmodifiableException,
  GetAccessKeyLastUsedCommand,
  type GetAccessKeyLastUsedCommandInput,
  type GetAccessKeyLastUsedCommandOutput,
  GetLoginProfileCommand,
  type GetLoginProfileCommandInput,
  type GetLoginProfileCommandOutput,
  GetRoleCommand,
  type GetRoleCommandInput,
  type GetRoleCommandOutput,
  GetRolePolicyCommand,
  type GetRolePolicyCommandInput,
  type GetRolePolicyCommandOutput,
  GetUserCommand,
  type GetUserCommandInput,
  type GetUserCommandOutput,
  GetUserPolicyCommand,
  type GetUserPolicyCommandInput,
  type GetUserPolicyCommandOutput,
  IAMClient,
  IAMServiceException,
  type InstanceProfile,
  InvalidInputException,
  LimitExceededException,
  ListAccessKeysCommand,
  type ListAccessKeysCommandInput,
  type ListAccessKeysCommandOutput,
  ListInstanceProfilesForRoleCommand,
  type ListInstanceProfilesForRoleCommandInput,
  type ListInstanceProfilesForRoleCommandOutput,
  ListRolePoliciesCommand,
  type ListRolePoliciesCommandInput,
  type ListRolePoliciesCommandOutput,
  ListRoleTagsCommand,
  type ListRoleTagsCommandInput,
  type ListRoleTagsCommandOutput,
  ListUserPoliciesCommand,
  type ListUserPoliciesCommandInput,
  type ListUserPoliciesCommandOutput,
  ListUserTagsCommand,
  type ListUserTagsCommandInput,
  type ListUserTagsCommandOutput,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  PutRolePolicyCommand,
  type PutRolePolicyCommandInput,
  PutUserPolicyCommand,
  type PutUserPolicyCommandInput,
  type Role,
  ServiceFailureException,
  type Tag,
  TagUserCommand,
  type TagUserCommandInput,
  UnmodifiableEntityException,
  UntagUserCommand,
  type UntagUserCommandInput,
  UpdateAccessKeyCommand,
  type UpdateAccessKeyCommandInput,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClients } from '../../../shared/respond/types.js';

/**
 * A stateful model of one account's IAM behind the real `IAMClient` (aws-sdk-client-mock on a client
 * instance the model owns): users with tags, access keys (status, last use), login profiles and inline
 * policies; roles with tags and inline policies; instance profiles. Tests seed it, run code against
 * `clients()`, and assert the end state (`snapshot()`), not which calls were made.
 *
 * Faithful where it matters to responders:
 * - errors are the SDK's own exception classes, as the query protocol deserialiser builds them: modelled
 *   codes become their class (`NoSuchEntity` -> `NoSuchEntityException`, `name` is the class name and `Code`
 *   the wire code); unmodelled codes (`AccessDenied`, `Throttling`, `ValidationError`) have `name` = code;
 * - `Get*Policy` and `GetRole` return policy documents URL-encoded (RFC 3986), as IAM does;
 * - names of users and roles are case-insensitive (IAM will not hold `Alice` and `alice`);
 * - limits: 2 access keys per user, 2,048 (user) / 10,240 (role) non-whitespace characters of inline
 *   policy per principal, 50 tags, the tag character set (no commas), service-linked roles unmodifiable;
 * - `UpdateAccessKey`, `ListAccessKeys`, `GetUser`, ... without `UserName` act on the *caller* in IAM;
 *   the model refuses that with `ValidationError` so code that forgets the user name fails loudly.
 *
 * Not modelled: managed policies, groups, pagination beyond `Marker`/`MaxItems` on the List calls,
 * eventual consistency. An operation the model does not implement rejects with `UnmodelledOperation`.
 */
export class IamModel {
  readonly accountId: string;
  readonly client = new IAMClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  /** Every call the client received, in order (inputs cloned), including failed and ignored ones. */
  readonly calls: { readonly operation: string; readonly input: Readonly<Record<string, unknown>> }[] = [];

  private state: IamState = { users: new Map(), keys: new Map(), roles: new Map(), profiles: new Map() };
  private readonly failures = new Map<string, Error[]>();
  private readonly ignored = new Map<string, number>();
  private sequence = 0;
  private readonly now: () => Date;

  constructor(options: { readonly accountId?: string; readonly now?: () => Date } = {}) {
    this.accountId = options.accountId ?? '111122223333';
    this.now = options.now ?? (() => new Date('2024-01-01T00:00:00Z'));
    const mock = mockClient(this.client);
    mock.send.callsFake(async (command: object) => {
      const operation = command.constructor.name.replace(/Command$/, '');
      throw iamError('UnmodelledOperation', `IamModel does not model IAM ${operation}`);
    });
    const read = READ;
    const write = WRITE;
    mock
      .on(GetAccessKeyLastUsedCommand)
      .callsFake(this.handler('GetAccessKeyLastUsed', read, (i) => this.getAccessKeyLastUsed(i)));
    mock
      .on(ListAccessKeysCommand)
      .callsFake(this.handler('ListAccessKeys', read, (i) => this.listAccessKeys(i)));
    mock
      .on(UpdateAccessKeyCommand)
      .callsFake(this.handler('UpdateAccessKey', write, (i) => this.updateAccessKey(i)));
    mock.on(GetUserCommand).callsFake(this.handler('GetUser', read, (i) => this.getUser(i)));
    mock.on(ListUserTagsCommand).callsFake(this.handler('ListUserTags', read, (i) => this.listUserTags(i)));
    mock.on(TagUserCommand).callsFake(this.handler('TagUser', write, (i) => this.tagUser(i)));
    mock.on(UntagUserCommand).callsFake(this.handler('UntagUser', write, (i) => this.untagUser(i)));
    mock
      .on(PutUserPolicyCommand)
      .callsFake(this.handler('PutUserPolicy', write, (i) => this.putUserPolicy(i)));
    mock
      .on(GetUserPolicyCommand)
      .callsFake(this.handler('GetUserPolicy', read, (i) => this.getUserPolicy(i)));
    mock
      .on(DeleteUserPolicyCommand)
      .callsFake(this.handler('DeleteUserPolicy', write, (i) => this.deleteUserPolicy(i)));
    mock
      .on(ListUserPoliciesCommand)
      .callsFake(this.handler('ListUserPolicies', read, (i) => this.listUserPolicies(i)));
    mock
      .on(GetLoginProfileCommand)
      .callsFake(this.handler('GetLoginProfile', read, (i) => this.getLoginProfile(i)));
    mock
      .on(DeleteLoginProfileCommand)
      .callsFake(this.handler('DeleteLoginProfile', write, (i) => this.deleteLoginProfile(i)));
    mock.on(GetRoleCommand).callsFake(this.handler('GetRole', read, (i) => this.getRole(i)));
    mock.on(ListRoleTagsCommand).callsFake(this.handler('ListRoleTags', read, (i) => this.listRoleTags(i)));
    mock
      .on(PutRolePolicyCommand)
      .callsFake(this.handler('PutRolePolicy', write, (i) => this.putRolePolicy(i)));
    mock
      .on(GetRolePolicyCommand)
      .callsFake(this.handler('GetRolePolicy', read, (i) => this.getRolePolicy(i)));
    mock
      .on(DeleteRolePolicyCommand)
      .callsFake(this.handler('DeleteRolePolicy', write, (i) => this.deleteRolePolicy(i)));
    mock
      .on(ListRolePoliciesCommand)
      .callsFake(this.handler('ListRolePolicies', read, (i) => this.listRolePolicies(i)));
    mock
      .on(ListInstanceProfilesForRoleCommand)
      .callsFake(
        this.handler('ListInstanceProfilesForRole', read, (i) => this.listInstanceProfilesForRole(i)),
      );
  }

  /** The clients this model serves, to spread into an `AwsClients`. */
  clients(): Pick<AwsClients, 'iam'> {
    return { iam: this.client };
  }

  // ---- seeding --------------------------------------------------------------------------------------------

  addUser(name: string, options: UserSeed = {}): this {
    if (this.state.users.has(fold(name))) throw new Error(`IamModel: user ${name} exists`);
    const user: UserRecord = {
      name,
      id: this.nextId('AIDA'),
      path: options.path ?? '/',
      createDate: this.now(),
      tags: tagList(options.tags),
      policies: new Map(Object.entries(options.policies ?? {}).map(([k, v]) => [k, documentText(v)])),
    };
    if (options.loginProfile) {
      user.loginProfile = {
        createDate: this.now(),
        passwordResetRequired: options.loginProfile === 'reset-required',
      };
    }
    this.state.users.set(fold(name), user);
    return this;
  }

  addAccessKey(userName: string, accessKeyId: string, options: KeySeed = {}): this {
    const user = this.state.users.get(fold(userName));
    if (!user) throw new Error(`IamModel: no user ${userName}`);
    if (this.state.keys.has(accessKeyId)) throw new Error(`IamModel: key ${accessKeyId} exists`);
    if (this.keysOf(user.name).length >= 2) throw new Error(`IamModel: IAM allows 2 access keys per user`);
    this.state.keys.set(accessKeyId, keyRecord(accessKeyId, user.name, options, this.now()));
    return this;
  }

  /**
   * An access key of the account's root user. `GetAccessKeyLastUsed` reports it without a `UserName` unless
   * `reportedUserName` is given (e.g. `root`); no IAM call can list or update it.
   */
  addRootAccessKey(
    accessKeyId: string,
    options: KeySeed & { readonly reportedUserName?: string } = {},
  ): this {
    const key = keyRecord(accessKeyId, null, options, this.now());
    if (options.reportedUserName !== undefined) key.reportedUserName = options.reportedUserName;
    this.state.keys.set(accessKeyId, key);
    return this;
  }

  addRole(name: string, options: RoleSeed = {}): this {
    if (this.state.roles.has(fold(name))) throw new Error(`IamModel: role ${name} exists`);
    this.state.roles.set(fold(name), {
      name,
      id: this.nextId('AROA'),
      path: options.path ?? '/',
      createDate: this.now(),
      assumeRolePolicy: documentText(
        options.assumeRolePolicy ?? {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
      ),
      tags: tagList(options.tags),
      policies: new Map(Object.entries(options.policies ?? {}).map(([k, v]) => [k, documentText(v)])),
    });
    return this;
  }

  addInstanceProfile(name: string, roleNames: readonly string[] = []): this {
    for (const role of roleNames) {
      if (!this.state.roles.has(fold(role))) throw new Error(`IamModel: no role ${role}`);
    }
    this.state.profiles.set(fold(name), {
      name,
      id: this.nextId('AIPA'),
      path: '/',
      createDate: this.now(),
      roles: roleNames.map((r) => this.state.roles.get(fold(r))?.name ?? r),
    });
    return this;
  }

  // ---- test controls --------------------------------------------------------------------------------------

  /** The next call of `operation` rejects with `code` (an IAM wire code such as `NoSuchEntity`, `AccessDenied`). */
  failNext(operation: string, code: string, message = `injected ${code}`): this {
    const queue = this.failures.get(operation) ?? [];
    queue.push(iamError(code, message));
    this.failures.set(operation, queue);
    return this;
  }

  /** The next call of the write `operation` answers success but changes nothing (to prove read-back checks). */
  ignoreNext(operation: string): this {
    this.ignored.set(operation, (this.ignored.get(operation) ?? 0) + 1);
    return this;
  }

  /** The whole account as plain data (JSON-safe), for before/after equality. */
  snapshot(): IamSnapshot {
    const users: IamSnapshot['users'] = {};
    for (const u of this.state.users.values()) {
      users[u.name] = {
        path: u.path,
        tags: Object.fromEntries(u.tags.map((t) => [t.Key ?? '', t.Value ?? ''])),
        accessKeys: Object.fromEntries(this.keysOf(u.name).map((k) => [k.id, k.status])),
        loginProfile: u.loginProfile !== undefined,
        policies: Object.fromEntries(u.policies),
      };
    }
    const roles: IamSnapshot['roles'] = {};
    for (const r of this.state.roles.values()) {
      roles[r.name] = {
        path: r.path,
        tags: Object.fromEntries(r.tags.map((t) => [t.Key ?? '', t.Value ?? ''])),
        policies: Object.fromEntries(r.policies),
      };
    }
    const instanceProfiles: IamSnapshot['instanceProfiles'] = {};
    for (const p of this.state.profiles.values()) instanceProfiles[p.name] = { roles: [...p.roles] };
    const rootAccessKeys: IamSnapshot['rootAccessKeys'] = {};
    for (const k of this.state.keys.values()) if (k.owner === null) rootAccessKeys[k.id] = k.status;
    return { users, roles, instanceProfiles, rootAccessKeys };
  }

  /** The state of one access key (undefined when it does not exist). */
  keyStatus(accessKeyId: string): 'Active' | 'Inactive' | undefined {
    return this.state.keys.get(accessKeyId)?.status;
  }

  /** One inline policy of a user, decoded and parsed (undefined when absent). */
  userPolicy(userName: string, policyName: string): unknown {
    const text = this.state.users.get(fold(userName))?.policies.get(policyName);
    return text === undefined ? undefined : JSON.parse(text);
  }

  /** One inline policy of a role, decoded and parsed (undefined when absent). */
  rolePolicy(roleName: string, policyName: string): unknown {
    const text = this.state.roles.get(fold(roleName))?.policies.get(policyName);
    return text === undefined ? undefined : JSON.parse(text);
  }

  /** Operations called so far that change state (whether or not they succeeded). */
  writeCalls(): string[] {
    return this.calls.filter((c) => IAM_WRITE_OPERATIONS.has(c.operation)).map((c) => c.operation);
  }

  // ---- dispatch -------------------------------------------------------------------------------------------

  private handler<I extends object, O extends object>(
    operation: string,
    kind: typeof READ | typeof WRITE,
    fn: (input: I) => O,
  ): (input: I) => Promise<O & { $metadata: ResponseMetadata }> {
    return async (input: I) => {
      this.calls.push({ operation, input: structuredClone(Object.fromEntries(Object.entries(input))) });
      const failure = this.failures.get(operation)?.shift();
      if (failure) throw failure;
      const ignore = kind === WRITE && (this.ignored.get(operation) ?? 0) > 0;
      if (!ignore) return { ...fn(input), $metadata: metadata() };
      this.ignored.set(operation, (this.ignored.get(operation) ?? 1) - 1);
      const saved = structuredClone(this.state);
      const output = fn(input);
      this.state = saved;
      return { ...output, $metadata: metadata() };
    };
  }

  // ---- access keys ----------------------------------------------------------------------------------------

  private getAccessKeyLastUsed(
    input: GetAccessKeyLastUsedCommandInput,
  ): Omit<GetAccessKeyLastUsedCommandOutput, '$metadata'> {
    const id = required(input.AccessKeyId, 'accessKeyId');
    const key = this.state.keys.get(id);
    if (!key) throw iamError('NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
    const userName = key.owner ?? key.reportedUserName;
    return {
      ...(userName !== undefined ? { UserName: userName } : {}),
      AccessKeyLastUsed: {
        ...(key.lastUsed?.date ? { LastUsedDate: key.lastUsed.date } : {}),
        ServiceName: key.lastUsed?.service ?? 'N/A',
        Region: key.lastUsed?.region ?? 'N/A',
      },
    };
  }

  private listAccessKeys(input: ListAccessKeysCommandInput): Omit<ListAccessKeysCommandOutput, '$metadata'> {
    const user = this.user(callerUser(input.UserName, 'ListAccessKeys'));
    const page = paginate(
      this.keysOf(user.name).map((k) => keyMetadata(k)),
      input,
    );
    return { AccessKeyMetadata: page.items, IsTruncated: page.truncated, ...page.marker };
  }

  private updateAccessKey(input: UpdateAccessKeyCommandInput): object {
    const user = this.user(callerUser(input.UserName, 'UpdateAccessKey'));
    const id = required(input.AccessKeyId, 'accessKeyId');
    if (input.Status !== 'Active' && input.Status !== 'Inactive') {
      throw iamError(
        'ValidationError',
        `Value '${String(input.Status)}' at 'status' failed to satisfy constraint`,
      );
    }
    const key = this.state.keys.get(id);
    if (!key || key.owner !== user.name)
      throw iamError('NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
    key.status = input.Status;
    return {};
  }

  // ---- users ----------------------------------------------------------------------------------------------

  private getUser(input: GetUserCommandInput): Omit<GetUserCommandOutput, '$metadata'> {
    const user = this.user(callerUser(input.UserName, 'GetUser'));
    return {
      User: {
        Path: user.path,
        UserName: user.name,
        UserId: user.id,
        Arn: `arn:aws:iam::${this.accountId}:user${user.path}${user.name}`,
        CreateDate: user.createDate,
        ...(user.tags.length > 0 ? { Tags: user.tags.map((t) => ({ ...t })) } : {}),
      },
    };
  }

  private listUserTags(input: ListUserTagsCommandInput): Omit<ListUserTagsCommandOutput, '$metadata'> {
    const user = this.user(required(input.UserName, 'userName'));
    const page = paginate(
      user.tags.map((t) => ({ ...t })),
      input,
    );
    return { Tags: page.items, IsTruncated: page.truncated, ...page.marker };
  }

  private tagUser(input: TagUserCommandInput): object {
    const user = this.user(required(input.UserName, 'userName'));
    user.tags = mergeTags(user.tags, input.Tags ?? []);
    return {};
  }

  private untagUser(input: UntagUserCommandInput): object {
    const user = this.user(required(input.UserName, 'userName'));
    const remove = new Set(input.TagKeys ?? []);
    user.tags = user.tags.filter((t) => !remove.has(t.Key ?? ''));
    return {};
  }

  private putUserPolicy(input: PutUserPolicyCommandInput): object {
    const user = this.user(required(input.UserName, 'userName'));
    const name = policyName(input.PolicyName);
    const document = policyDocument(input.PolicyDocument);
    const next = new Map(user.policies).set(name, document);
    if (policySize(next) > 2048) {
      throw iamError('LimitExceeded', `Maximum policy size of 2048 bytes exceeded for user ${user.name}`);
    }
    user.policies = next;
    return {};
  }

  private getUserPolicy(input: GetUserPolicyCommandInput): Omit<GetUserPolicyCommandOutput, '$metadata'> {
    const user = this.user(required(input.UserName, 'userName'));
    const name = required(input.PolicyName, 'policyName');
    const document = user.policies.get(name);
    if (document === undefined) {
      throw iamError('NoSuchEntity', `The user policy with name ${name} cannot be found.`);
    }
    return { UserName: user.name, PolicyName: name, PolicyDocument: encodeURIComponent(document) };
  }

  private deleteUserPolicy(input: DeleteUserPolicyCommandInput): object {
    const user = this.user(required(input.UserName, 'userName'));
    const name = required(input.PolicyName, 'policyName');
    if (!user.policies.delete(name)) {
      throw iamError('NoSuchEntity', `The user policy with name ${name} cannot be found.`);
    }
    return {};
  }

  private listUserPolicies(
    input: ListUserPoliciesCommandInput,
  ): Omit<ListUserPoliciesCommandOutput, '$metadata'> {
    const user = this.user(required(input.UserName, 'userName'));
    const page = paginate([...user.policies.keys()], input);
    return { PolicyNames: page.items, IsTruncated: page.truncated, ...page.marker };
  }

  private getLoginProfile(
    input: GetLoginProfileCommandInput,
  ): Omit<GetLoginProfileCommandOutput, '$metadata'> {
    const user = this.user(callerUser(input.UserName, 'GetLoginProfile'));
    if (!user.loginProfile)
      throw iamError('NoSuchEntity', `Login Profile for User ${user.name} cannot be found.`);
    return {
      LoginProfile: {
        UserName: user.name,
        CreateDate: user.loginProfile.createDate,
        PasswordResetRequired: user.loginProfile.passwordResetRequired,
      },
    };
  }

  private deleteLoginProfile(input: DeleteLoginProfileCommandInput): object {
    const user = this.user(callerUser(input.UserName, 'DeleteLoginProfile'));
    if (!user.loginProfile)
      throw iamError('NoSuchEntity', `Login Profile for User ${user.name} cannot be found.`);
    delete user.loginProfile;
    return {};
  }

  // ---- roles ----------------------------------------------------------------------------------------------

  private getRole(input: GetRoleCommandInput): Omit<GetRoleCommandOutput, '$metadata'> {
    return { Role: this.roleShape(this.role(required(input.RoleName, 'roleName'))) };
  }

  private listRoleTags(input: ListRoleTagsCommandInput): Omit<ListRoleTagsCommandOutput, '$metadata'> {
    const role = this.role(required(input.RoleName, 'roleName'));
    const page = paginate(
      role.tags.map((t) => ({ ...t })),
      input,
    );
    return { Tags: page.items, IsTruncated: page.truncated, ...page.marker };
  }

  private putRolePolicy(input: PutRolePolicyCommandInput): object {
    const role = this.role(required(input.RoleName, 'roleName'));
    if (role.path.startsWith('/aws-service-role/')) {
      throw iamError(
        'UnmodifiableEntity',
        `Cannot perform the operation on the protected role '${role.name}' - this role is only modifiable by AWS`,
      );
    }
    const name = policyName(input.PolicyName);
    const document = policyDocument(input.PolicyDocument);
    const next = new Map(role.policies).set(name, document);
    if (policySize(next) > 10240) {
      throw iamError('LimitExceeded', `Maximum policy size of 10240 bytes exceeded for role ${role.name}`);
    }
    role.policies = next;
    return {};
  }

  private getRolePolicy(input: GetRolePolicyCommandInput): Omit<GetRolePolicyCommandOutput, '$metadata'> {
    const role = this.role(required(input.RoleName, 'roleName'));
    const name = required(input.PolicyName, 'policyName');
    const document = role.policies.get(name);
    if (document === undefined) {
      throw iamError('NoSuchEntity', `The role policy with name ${name} cannot be found.`);
    }
    return { RoleName: role.name, PolicyName: name, PolicyDocument: encodeURIComponent(document) };
  }

  private deleteRolePolicy(input: DeleteRolePolicyCommandInput): object {
    const role = this.role(required(input.RoleName, 'roleName'));
    if (role.path.startsWith('/aws-service-role/')) {
      throw iamError(
        'UnmodifiableEntity',
        `Cannot perform the operation on the protected role '${role.name}'`,
      );
    }
    const name = required(input.PolicyName, 'policyName');
    if (!role.policies.delete(name)) {
      throw iamError('NoSuchEntity', `The role policy with name ${name} cannot be found.`);
    }
    return {};
  }

  private listRolePolicies(
    input: ListRolePoliciesCommandInput,
  ): Omit<ListRolePoliciesCommandOutput, '$metadata'> {
    const role = this.role(required(input.RoleName, 'roleName'));
    const page = paginate([...role.policies.keys()], input);
    return { PolicyNames: page.items, IsTruncated: page.truncated, ...page.marker };
  }

  private listInstanceProfilesForRole(
    input: ListInstanceProfilesForRoleCommandInput,
  ): Omit<ListInstanceProfilesForRoleCommandOutput, '$metadata'> {
    const role = this.role(required(input.RoleName, 'roleName'));
    const profiles: InstanceProfile[] = [...this.state.profiles.values()]
      .filter((p) => p.roles.some((r) => fold(r) === fold(role.name)))
      .map((p) => ({
        Path: p.path,
        InstanceProfileName: p.name,
        InstanceProfileId: p.id,
        Arn: `arn:aws:iam::${this.accountId}:instance-profile${p.path}${p.name}`,
        CreateDate: p.createDate,
        Roles: p.roles.map((r) => this.roleShape(this.role(r))),
      }));
    const page = paginate(profiles, input);
    return { InstanceProfiles: page.items, IsTruncated: page.truncated, ...page.marker };
  }

  // ---- helpers --------------------------------------------------------------------------------------------

  private user(name: string): UserRecord {
    const user = this.state.users.get(fold(name));
    if (!user) throw iamError('NoSuchEntity', `The user with name ${name} cannot be found.`);
    return user;
  }

  private role(name: string): RoleRecord {
    const role = this.state.roles.get(fold(name));
    if (!role) throw iamError('NoSuchEntity', `The role with name ${name} cannot be found.`);
    return role;
  }

  private keysOf(userName: string): KeyRecord[] {
    return [...this.state.keys.values()].filter((k) => k.owner === userName);
  }

  private roleShape(role: RoleRecord): Role {
    return {
      Path: role.path,
      RoleName: role.name,
      RoleId: role.id,
      Arn: `arn:aws:iam::${this.accountId}:role${role.path}${role.name}`,
      CreateDate: role.createDate,
      AssumeRolePolicyDocument: encodeURIComponent(role.assumeRolePolicy),
      MaxSessionDuration: 3600,
      ...(role.tags.length > 0 ? { Tags: role.tags.map((t) => ({ ...t })) } : {}),
      RoleLastUsed: {},
    };
  }

  private nextId(prefix: string): string {
    this.sequence += 1;
    return `${prefix}${this.sequence.toString(36).toUpperCase().padStart(17, '0')}`;
  }
}

// ---- types and pure helpers -------------------------------------------------------------------------------

export interface UserSeed {
  readonly path?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** A console password (login profile); `reset-required` sets PasswordResetRequired. */
  readonly loginProfile?: boolean | 'reset-required';
  /** Inline policies by name: a document object or its JSON text. */
  readonly policies?: Readonly<Record<string, object | string>>;
}

export interface KeySeed {
  readonly status?: 'Active' | 'Inactive';
  readonly createDate?: Date;
  readonly lastUsed?: { readonly date?: Date; readonly service: string; readonly region: string };
}

export interface RoleSeed {
  /** `/aws-service-role/...` makes it a service-linked role (inline policies cannot be changed). */
  readonly path?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly policies?: Readonly<Record<string, object | string>>;
  readonly assumeRolePolicy?: object;
}

export interface IamSnapshot {
  users: Record<
    string,
    {
      path: string;
      tags: Record<string, string>;
      accessKeys: Record<string, 'Active' | 'Inactive'>;
      loginProfile: boolean;
      /** Inline policies, as the JSON text that was put. */
      policies: Record<string, string>;
    }
  >;
  roles: Record<string, { path: string; tags: Record<string, string>; policies: Record<string, string> }>;
  instanceProfiles: Record<string, { roles: string[] }>;
  rootAccessKeys: Record<string, 'Active' | 'Inactive'>;
}

interface KeyRecord {
  id: string;
  /** The owning user's name; null for a root access key. */
  owner: string | null;
  status: 'Active' | 'Inactive';
  createDate: Date;
  lastUsed?: { date?: Date; service: string; region: string };
  reportedUserName?: string;
}

interface UserRecord {
  name: string;
  id: string;
  path: string;
  createDate: Date;
  tags: Tag[];
  loginProfile?: { createDate: Date; passwordResetRequired: boolean };
  policies: Map<string, string>;
}

interface RoleRecord {
  name: string;
  id: string;
  path: string;
  createDate: Date;
  assumeRolePolicy: string;
  tags: Tag[];
  policies: Map<string, string>;
}

interface ProfileRecord {
  name: string;
  id: string;
  path: string;
  createDate: Date;
  roles: string[];
}

interface IamState {
  users: Map<string, UserRecord>;
  keys: Map<string, KeyRecord>;
  roles: Map<string, RoleRecord>;
  profiles: Map<string, ProfileRecord>;
}

type ResponseMetadata = GetUserCommandOutput['$metadata'];

const READ = 'read';
const WRITE = 'write';
/** The modelled operations that change state. */
export const IAM_WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  'UpdateAccessKey',
  'TagUser',
  'UntagUser',
  'PutUserPolicy',
  'DeleteUserPolicy',
  'DeleteLoginProfile',
  'PutRolePolicy',
  'DeleteRolePolicy',
]);

type ErrorFactory = (message: string) => Error;
const opts = (message: string, httpStatusCode: number) => ({ message, $metadata: { httpStatusCode } });

/** IAM wire codes with a modelled exception class (the `awsQueryError` traits of the SDK's error schemas). */
const MODELLED: Readonly<Record<string, ErrorFactory>> = {
  NoSuchEntity: (m) => new NoSuchEntityException(opts(m, 404)),
  LimitExceeded: (m) => new LimitExceededException(opts(m, 409)),
  MalformedPolicyDocument: (m) => new MalformedPolicyDocumentException(opts(m, 400)),
  InvalidInput: (m) => new InvalidInputException(opts(m, 400)),
  UnmodifiableEntity: (m) => new UnmodifiableEntityException(opts(m, 400)),
  ServiceFailure: (m) => new ServiceFailureException(opts(m, 500)),
  ConcurrentModification: (m) => new ConcurrentModificationException(opts(m, 409)),
  EntityTemporarilyUnmodifiable: (m) => new EntityTemporarilyUnmodifiableException(opts(m, 409)),
};

/** The error the SDK throws for an IAM error response with this code (`NoSuchEntity` or `NoSuchEntityException`). */
export function iamError(code: string, message: string): Error {
  const wire = code.replace(/Exception$/, '');
  const factory = MODELLED[wire];
  const error =
    factory?.(message) ??
    new IAMServiceException({ name: code, $fault: 'client', message, $metadata: { httpStatusCode: 400 } });
  return Object.assign(error, {
    Type: 'Sender',
    Code: factory ? wire : code,
    Error: { Type: 'Sender', Code: factory ? wire : code, Message: message },
  });
}

function metadata(): ResponseMetadata {
  return { httpStatusCode: 200, requestId: '00000000-0000-4000-8000-000000000000', attempts: 1 };
}

function fold(name: string): string {
  return name.toLowerCase();
}

function required(value: string | undefined, member: string): string {
  if (value === undefined || value === '') {
    throw iamError(
      'ValidationError',
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/** IAM acts on the caller when UserName is omitted; the model refuses, since the responder is never the target. */
function callerUser(userName: string | undefined, operation: string): string {
  if (userName === undefined || userName === '') {
    throw iamError('ValidationError', `IamModel: ${operation} without UserName acts on the caller in IAM`);
  }
  return userName;
}

function keyRecord(id: string, owner: string | null, seed: KeySeed, now: Date): KeyRecord {
  return {
    id,
    owner,
    status: seed.status ?? 'Active',
    createDate: seed.createDate ?? now,
    ...(seed.lastUsed
      ? {
          lastUsed: {
            ...(seed.lastUsed.date ? { date: seed.lastUsed.date } : {}),
            service: seed.lastUsed.service,
            region: seed.lastUsed.region,
          },
        }
      : {}),
  };
}

function keyMetadata(key: KeyRecord): AccessKeyMetadata {
  return { UserName: key.owner ?? '', AccessKeyId: key.id, Status: key.status, CreateDate: key.createDate };
}

const TAG_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function tagList(tags: Readonly<Record<string, string>> | undefined): Tag[] {
  return mergeTags(
    [],
    Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
  );
}

function mergeTags(current: readonly Tag[], added: readonly Tag[]): Tag[] {
  const next = current.map((t) => ({ ...t }));
  for (const tag of added) {
    const key = tag.Key ?? '';
    const value = tag.Value ?? '';
    if (
      key.length < 1 ||
      key.length > 128 ||
      !TAG_PATTERN.test(key) ||
      key.toLowerCase().startsWith('aws:')
    ) {
      throw iamError('ValidationError', `Invalid tag key '${key}'`);
    }
    if (value.length > 256 || !TAG_PATTERN.test(value)) {
      throw iamError(
        'ValidationError',
        `1 validation error detected: Value '${value}' at 'tags.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`,
      );
    }
    const existing = next.find((t) => t.Key === key);
    if (existing) existing.Value = value;
    else next.push({ Key: key, Value: value });
  }
  if (next.length > 50)
    throw iamError('LimitExceeded', 'The number of tags has reached the maximum limit of 50.');
  return next;
}

function documentText(document: object | string): string {
  return typeof document === 'string' ? document : JSON.stringify(document);
}

function policyName(name: string | undefined): string {
  const value = required(name, 'policyName');
  if (!/^[\w+=,.@-]{1,128}$/.test(value)) throw iamError('ValidationError', `Invalid policy name '${value}'`);
  return value;
}

function policyDocument(document: string | undefined): string {
  const text = required(document, 'policyDocument');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw iamError('MalformedPolicyDocument', 'Syntax errors in policy.');
  }
  if (typeof parsed !== 'object' || parsed === null || !('Statement' in parsed)) {
    throw iamError('MalformedPolicyDocument', 'Policy document must contain a Statement.');
  }
  return text;
}

/** IAM counts inline policy size without whitespace, over all inline policies of the principal. */
function policySize(policies: ReadonlyMap<string, string>): number {
  let size = 0;
  for (const text of policies.values()) size += text.replace(/\s/g, '').length;
  return size;
}

function paginate<T>(
  items: readonly T[],
  input: { readonly Marker?: string | undefined; readonly MaxItems?: number | undefined },
): { items: T[]; truncated: boolean; marker: { Marker?: string } } {
  const start = input.Marker === undefined ? 0 : Number.parseInt(input.Marker, 10);
  if (!Number.isInteger(start) || start < 0) throw iamError('InvalidInput', 'Invalid Marker');
  const size = input.MaxItems ?? 100;
  const end = start + size;
  const truncated = end < items.length;
  return { items: items.slice(start, end), truncated, marker: truncated ? { Marker: String(end) } : {} };
}
