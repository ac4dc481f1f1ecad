/** One line that says exactly what a fault handle touches, for journals, status and plans. */
import type { FaultHandle } from './journal';

export function describeHandle(handle: FaultHandle): string {
  switch (handle.provider) {
    case 'toxiproxy': {
      const t = handle.toxiproxy;
      if (t.action === 'down') return `toxiproxy ${t.url} proxy ${t.proxy} disabled`;
      return `toxiproxy ${t.url} proxy ${t.proxy} toxic ${t.toxic.name} (${t.toxic.type} ${t.toxic.stream})`;
    }
    case 'awsEc2': {
      const e = handle.awsEc2;
      const which = e.instances
        ? `${e.instances.length} of ${e.candidates} matching instances: ${e.instances.map((i) => i.id).join(', ') || 'none'}`
        : `${e.selection} of ${JSON.stringify(e.selector)} (not resolved yet)`;
      return `ec2 ${e.region} ${e.action} ${which}`;
    }
    case 'awsFis': {
      const f = handle.awsFis;
      const template = f.templateId
        ? `template ${f.templateId}`
        : `inline template (${f.createdTemplateId ?? 'created at inject'})`;
      return `fis ${f.region} ${template}, experiment ${f.experimentId ?? '(not started)'}`;
    }
  }
}
