/**
 * Decisions on packets captured from real firmware under QEMU
 * (test/fixtures/dhcp/README.md says how): what each firmware sends is
 * classified right, and our answer is what that firmware needs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classify } from '../../../src/boot/classify.ts';
import { decide } from '../../../src/boot/decide.ts';
import { proxySafetyViolation } from '../../../src/boot/reply.ts';
import { MessageType, OptionCode, decodePacket, getOption } from '../../../src/protocol/dhcp/index.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';
import { labYaml, planFrom } from '../../support/dhcp.ts';

const golden = (name: string) => decodePacket(new Uint8Array(readFileSync(join(REPO_ROOT, 'test/fixtures/dhcp', `${name}.bin`))));
const plan = planFrom(labYaml('proxy'));
const SERVER = '10.9.0.3';

const cases = [
  // [fixture, stage, arch, listener, source port, expected boot file]
  ['bios-firmware-discover', 'ipxe', 'bios', 'dhcp', 68, `http://${SERVER}:8080/ipxe/52:54:00:12:34:56?arch=bios&uuid=8b3e0a4c-5a1b-4d2e-9f00-123456789abc`],
  ['bios-firmware-request-4011', 'ipxe', 'bios', 'pxe', 68, `http://${SERVER}:8080/ipxe/52:54:00:12:34:56?arch=bios&uuid=8b3e0a4c-5a1b-4d2e-9f00-123456789abc`],
  ['uefi-firmware-discover', 'ipxe', 'uefi-x64', 'dhcp', 68, `http://${SERVER}:8080/ipxe/52:54:00:12:34:56?arch=uefi-x64&uuid=8b3e0a4c-5a1b-4d2e-9f00-123456789abc`],
  ['uefi-edk2-firmware-discover', 'pxe', 'uefi-x64', 'dhcp', 68, 'ipxe.efi'],
  ['uefi-edk2-firmware-request-4011', 'pxe', 'uefi-x64', 'pxe', 4011, 'ipxe.efi'],
  ['uefi-edk2-ipxe-discover', 'ipxe', 'uefi-x64', 'dhcp', 68, `http://${SERVER}:8080/ipxe/52:54:00:12:34:56?arch=uefi-x64&uuid=8b3e0a4c-5a1b-4d2e-9f00-123456789abc`],
] as const;

for (const [name, stage, arch, listener, port, file] of cases) {
  test(`${name}: classified as ${stage}/${arch} and answered with ${file.startsWith('http') ? 'its script URL' : file}`, () => {
    const packet = golden(name);
    const c = classify(packet);
    assert.ok(c.ok);
    assert.equal(c.client.mac, '52:54:00:12:34:56');
    assert.equal(c.client.stage, stage);
    assert.equal(c.client.arch, arch);
    assert.equal(c.client.uuid, '8b3e0a4c-5a1b-4d2e-9f00-123456789abc', 'option 97 renders as the -uuid QEMU was given');
    const d = decide(packet, c.client, { plan, listener, serverAddress: SERVER, source: { address: '10.9.0.158', port }, leases: [], now: 0 });
    assert.equal(d.kind, 'reply', d.kind === 'ignore' ? d.reason : '');
    if (d.kind !== 'reply') return;
    assert.equal(getOption(d.packet.options, OptionCode.BootFileName), file);
    assert.equal(getOption(d.packet.options, OptionCode.MessageType), listener === 'pxe' ? MessageType.Ack : MessageType.Offer);
    assert.equal(proxySafetyViolation(d.packet), undefined);
    if (listener === 'pxe') assert.deepEqual(d.to, { address: '10.9.0.158', port });
  });
}

test('the captured site DHCP REQUESTs (for another server) are never answered by the proxy', () => {
  for (const name of ['bios-firmware-request', 'uefi-edk2-firmware-request']) {
    const packet = golden(name);
    const c = classify(packet);
    assert.ok(c.ok);
    const d = decide(packet, c.client, { plan, listener: 'dhcp', serverAddress: SERVER, source: { address: '0.0.0.0', port: 68 }, leases: [], now: 0 });
    assert.equal(d.kind, 'ignore', name);
  }
});
