import type { AwsClients } from '../../../shared/respond/types.js';
import { Ec2Model } from './ec2.js';
import { GuardDutyModel } from './guardduty.js';
import { IamModel } from './iam.js';

/** One AWS account and region as the response actions see it: EC2 (+ Auto Scaling, ELBv2), IAM, GuardDuty. */
export class AwsAccountModel {
  readonly ec2: Ec2Model;
  readonly iam: IamModel;
  readonly guardduty: GuardDutyModel;

  constructor(
    readonly accountId = '111122223333',
    readonly region = 'us-east-1',
  ) {
    this.ec2 = new Ec2Model({ accountId, region });
    this.iam = new IamModel({ accountId });
    this.guardduty = new GuardDutyModel({ accountId, region });
  }

  /** Real SDK clients answered by the models; one set per call, like the executor's per-run clients. */
  clients(): AwsClients {
    return { ...this.ec2.clients(), ...this.iam.clients(), ...this.guardduty.clients() };
  }

  snapshot(): unknown {
    return { ec2: this.ec2.snapshot(), iam: this.iam.snapshot(), guardduty: this.guardduty.snapshot() };
  }
}

export { Ec2Model, GuardDutyModel, IamModel };
