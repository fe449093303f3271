# ruff: noqa: F821, F841, RUF005, RUF007, RUF059, SIM110  (kept as VBench wrote it: a transcription, not our style)
"""VBench's own code, transcribed as closely as possible: the reference side of the parity tests.

Sources (Vchitect/VBench, main): vbench/utils.py (clip_transform, dino_transform, load_video's MP4 branch),
vbench/subject_consistency.py, vbench/background_consistency.py, vbench/temporal_flickering.py,
vbench/dynamic_degree.py, static_filter.py, vbench/aesthetic_quality.py, scripts/constant.py and
scripts/cal_final_score.py; facebookresearch/dino vision_transformer.py (DINO's forward) and RAFT's InputPadder.
What cannot run here is swapped for the same computation on our tiny models: torch.hub's DINO becomes a transformers
ViT run through DINO's own ``prepare_tokens`` (transcribed below), the ``clip`` package's model an open_clip one,
the original RAFT torchvision's port (same call convention), decord / cv2 reads the frames we hand over.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torchvision import transforms
from torchvision.transforms import CenterCrop, Compose, InterpolationMode, Normalize, Resize

BICUBIC = InterpolationMode.BICUBIC


# ---- vbench/utils.py ------------------------------------------------------------------------------------------
def clip_transform(n_px):
    return Compose(
        [
            Resize(n_px, interpolation=BICUBIC, antialias=False),
            CenterCrop(n_px),
            transforms.Lambda(lambda x: x.float().div(255.0)),
            Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
        ]
    )


def dino_transform(n_px):
    return Compose(
        [
            Resize(size=n_px, antialias=False),
            transforms.Lambda(lambda x: x.float().div(255.0)),
            Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
        ]
    )


def load_video(buffer):
    """load_video's MP4 branch after decord's get_batch: ``torch.Tensor(frames).permute(0, 3, 1, 2)``."""
    frames = torch.Tensor(buffer)
    return frames.permute(0, 3, 1, 2)


# ---- facebookresearch/dino: VisionTransformer.forward on a transformers ViT's weights -------------------------
class DinoHubForward(torch.nn.Module):
    def __init__(self, vit):
        super().__init__()
        self.vit = vit

    def interpolate_pos_encoding(self, x, w, h):
        pos_embed = self.vit.embeddings.position_embeddings
        patch_size = self.vit.config.patch_size
        npatch = x.shape[1] - 1
        N = pos_embed.shape[1] - 1
        if npatch == N and w == h:
            return pos_embed
        class_pos_embed = pos_embed[:, 0]
        patch_pos_embed = pos_embed[:, 1:]
        dim = x.shape[-1]
        w0 = w // patch_size
        h0 = h // patch_size
        w0, h0 = w0 + 0.1, h0 + 0.1
        patch_pos_embed = torch.nn.functional.interpolate(
            patch_pos_embed.reshape(1, int(math.sqrt(N)), int(math.sqrt(N)), dim).permute(0, 3, 1, 2),
            scale_factor=(w0 / math.sqrt(N), h0 / math.sqrt(N)),
            mode="bicubic",
        )
        assert int(w0) == patch_pos_embed.shape[-2] and int(h0) == patch_pos_embed.shape[-1]
        patch_pos_embed = patch_pos_embed.permute(0, 2, 3, 1).view(1, -1, dim)
        return torch.cat((class_pos_embed.unsqueeze(0), patch_pos_embed), dim=1)

    def prepare_tokens(self, x):
        B, nc, w, h = x.shape
        x = self.vit.embeddings.patch_embeddings.projection(x).flatten(2).transpose(1, 2)
        cls_tokens = self.vit.embeddings.cls_token.expand(B, -1, -1)
        x = torch.cat((cls_tokens, x), dim=1)
        x = x + self.interpolate_pos_encoding(x, w, h)
        return x

    def forward(self, x):
        x = self.prepare_tokens(x)
        for blk in self.vit.layers:  # transformers 5 ViT blocks
            x = blk(x, None)
        x = self.vit.layernorm(x)
        return x[:, 0]


# ---- vbench/subject_consistency.py (read_frame=False) ----------------------------------------------------------
def subject_consistency(model, video_list, device):
    sim = 0.0
    cnt = 0
    video_results = []
    image_transform = dino_transform(224)
    for video_path in video_list:
        video_sim = 0.0
        images = load_video(video_path)
        images = image_transform(images)
        for i in range(len(images)):
            with torch.no_grad():
                image = images[i].unsqueeze(0)
                image = image.to(device)
                image_features = model(image)
                image_features = F.normalize(image_features, dim=-1, p=2)
                if i == 0:
                    first_image_features = image_features
                else:
                    sim_pre = max(0.0, F.cosine_similarity(former_image_features, image_features).item())
                    sim_fir = max(0.0, F.cosine_similarity(first_image_features, image_features).item())
                    cur_sim = (sim_pre + sim_fir) / 2
                    video_sim += cur_sim
                    cnt += 1
            former_image_features = image_features
        sim_per_images = video_sim / (len(images) - 1)
        sim += video_sim
        video_results.append({"video_path": None, "video_results": sim_per_images})
    sim_per_frame = sim / cnt
    return sim_per_frame, video_results


# ---- vbench/background_consistency.py (read_frame=False; n_px: 224 in VBench, the tiny CLIP's size here) -------
def background_consistency(clip_model, video_list, device, n_px=224):
    sim = 0.0
    cnt = 0
    video_results = []
    image_transform = clip_transform(n_px)
    for video_path in video_list:
        video_sim = 0.0
        images = load_video(video_path)
        images = image_transform(images)
        images = images.to(device)
        with torch.no_grad():
            image_features = clip_model.encode_image(images)
        image_features = F.normalize(image_features, dim=-1, p=2)
        for i in range(len(image_features)):
            image_feature = image_features[i].unsqueeze(0)
            if i == 0:
                first_image_feature = image_feature
            else:
                sim_pre = max(0.0, F.cosine_similarity(former_image_feature, image_feature).item())
                sim_fir = max(0.0, F.cosine_similarity(first_image_feature, image_feature).item())
                cur_sim = (sim_pre + sim_fir) / 2
                video_sim += cur_sim
                cnt += 1
            former_image_feature = image_feature
        sim_per_image = video_sim / (len(image_features) - 1)
        sim += video_sim
        video_results.append({"video_path": None, "video_results": sim_per_image})
    sim_per_frame = sim / cnt
    return sim_per_frame, video_results


# ---- vbench/temporal_flickering.py (frames as cv2 reads them: BGR uint8) ----------------------------------------
def mae_seq(frames):
    ssds = []
    for i in range(len(frames) - 1):
        ssds.append(calculate_mae(frames[i], frames[i + 1]))
    return np.array(ssds)


def calculate_mae(img1, img2):
    return np.mean(cv2.absdiff(np.array(img1, dtype=np.float32), np.array(img2, dtype=np.float32)))


def flicker_cal_score(frames):
    score_seq = mae_seq(frames)
    return (255.0 - np.mean(score_seq).item()) / 255.0


# ---- RAFT: InputPadder and the original model's call convention on torchvision's port --------------------------
class InputPadder:
    def __init__(self, dims, mode="sintel"):
        self.ht, self.wd = dims[-2:]
        pad_ht = (((self.ht // 8) + 1) * 8 - self.ht) % 8
        pad_wd = (((self.wd // 8) + 1) * 8 - self.wd) % 8
        if mode == "sintel":
            self._pad = [pad_wd // 2, pad_wd - pad_wd // 2, pad_ht // 2, pad_ht - pad_ht // 2]
        else:
            self._pad = [pad_wd // 2, pad_wd - pad_wd // 2, 0, pad_ht]

    def pad(self, *inputs):
        return [F.pad(x, self._pad, mode="replicate") for x in inputs]


class OriginalRaftCall:
    """``RAFT.forward(image1, image2, iters, test_mode=True)``: scales 0..255 to [-1, 1], returns (low, up)."""

    def __init__(self, tv_raft):
        self.tv_raft = tv_raft

    def __call__(self, image1, image2, iters=12, test_mode=False):
        image1 = 2 * (image1 / 255.0) - 1.0
        image2 = 2 * (image2 / 255.0) - 1.0
        flows = self.tv_raft(image1.contiguous(), image2.contiguous(), num_flow_updates=iters)
        return None, flows[-1]


def _frame_tensors(frames_rgb):
    """get_frames: ``torch.from_numpy(frame.astype(np.uint8)).permute(2, 0, 1).float()[None]`` per frame."""
    return [torch.from_numpy(f.astype(np.uint8)).permute(2, 0, 1).float()[None] for f in frames_rgb]


# ---- vbench/dynamic_degree.py ----------------------------------------------------------------------------------
class DynamicDegree:
    def __init__(self, model):
        self.model = model

    def get_score(self, img, flo):
        img = img[0].permute(1, 2, 0).cpu().numpy()
        flo = flo[0].permute(1, 2, 0).cpu().numpy()
        u = flo[:, :, 0]
        v = flo[:, :, 1]
        rad = np.sqrt(np.square(u) + np.square(v))
        h, w = rad.shape
        rad_flat = rad.flatten()
        cut_index = int(h * w * 0.05)
        max_rad = np.mean(abs(np.sort(-rad_flat))[:cut_index])
        return max_rad.item()

    def set_params(self, frame, count):
        scale = min(list(frame.shape)[-2:])
        self.params = {"thres": 6.0 * (scale / 256.0), "count_num": round(4 * (count / 16.0))}

    def infer(self, frames_rgb, fps):
        with torch.no_grad():
            frames = self.get_frames(frames_rgb, fps)
            self.set_params(frame=frames[0], count=len(frames))
            static_score = []
            for image1, image2 in zip(frames[:-1], frames[1:], strict=True):
                padder = InputPadder(image1.shape)
                image1, image2 = padder.pad(image1, image2)
                _, flow_up = self.model(image1, image2, iters=20, test_mode=True)
                max_rad = self.get_score(image1, flow_up)
                static_score.append(max_rad)
            whether_move = self.check_move(static_score)
            self.scores = static_score
            return whether_move

    def check_move(self, score_list):
        thres = self.params["thres"]
        count_num = self.params["count_num"]
        count = 0
        for score in score_list:
            if score > thres:
                count += 1
            if count >= count_num:
                return True
        return False

    def get_frames(self, frames_rgb, fps):
        interval = max(1, round(fps / 8))
        frame_list = _frame_tensors(frames_rgb)
        return self.extract_frame(frame_list, interval)

    def extract_frame(self, frame_list, interval=1):
        extract = []
        for i in range(0, len(frame_list), interval):
            extract.append(frame_list[i])
        return extract


# ---- static_filter.py ------------------------------------------------------------------------------------------
class StaticFilter:
    def __init__(self, model):
        self.model = model

    def get_score(self, img, flo):
        img = img[0].permute(1, 2, 0).cpu().numpy()
        flo = flo[0].permute(1, 2, 0).cpu().numpy()
        u = flo[:, :, 0]
        v = flo[:, :, 1]
        rad = np.sqrt(np.square(u) + np.square(v))
        h, w = rad.shape
        rad_flat = rad.flatten()
        cut_index = int(h * w * 0.02)
        max_rad = np.mean(abs(np.sort(-rad_flat))[:cut_index])
        return max_rad

    def check_static(self, score_list):
        thres = self.params["thres"]
        count_num = self.params["count_num"]
        count = 0
        for score in score_list[:-2]:
            if score > thres:
                count += 1
            if count > count_num:
                return False
        for score in score_list[-2:]:
            if score > thres * count_num * 2:
                return False
        return True

    def set_params(self, frame, count):
        scale = min(list(frame.shape)[-2:])
        self.params = {"thres": 3.0 * (scale / 256.0), "count_num": round(2 * (count / 16.0))}

    def infer(self, frames_rgb):
        with torch.no_grad():
            frames = _frame_tensors(frames_rgb)
            self.set_params(frame=frames[0], count=len(frames))
            static_score = []
            for image1, image2 in zip(
                frames[:-1] + [frames[0], frames[-1]], frames[1:] + [frames[-1], frames[0]], strict=True
            ):
                padder = InputPadder(image1.shape)
                image1, image2 = padder.pad(image1, image2)
                _, flow_up = self.model(image1, image2, iters=20, test_mode=True)
                max_rad = self.get_score(image1, flow_up)
                static_score.append(max_rad)
            whether_static = self.check_static(static_score)
            self.scores = static_score
            return whether_static


# ---- vbench/aesthetic_quality.py (n_px: the CLIP's input size) --------------------------------------------------
def laion_aesthetic(aesthetic_model, clip_model, video_list, device, n_px=224, batch_size=32):
    aesthetic_avg = 0.0
    num = 0
    video_results = []
    for video_path in video_list:
        images = load_video(video_path)
        image_transform = clip_transform(n_px)
        aesthetic_scores_list = []
        for i in range(0, len(images), batch_size):
            image_batch = images[i : i + batch_size]
            image_batch = image_transform(image_batch)
            image_batch = image_batch.to(device)
            with torch.no_grad():
                image_feats = clip_model.encode_image(image_batch).to(torch.float32)
                image_feats = F.normalize(image_feats, dim=-1, p=2)
                aesthetic_scores = aesthetic_model(image_feats).squeeze(dim=-1)
            aesthetic_scores_list.append(aesthetic_scores)
        aesthetic_scores = torch.cat(aesthetic_scores_list, dim=0)
        normalized_aesthetic_scores = aesthetic_scores / 10
        cur_avg = torch.mean(normalized_aesthetic_scores, dim=0, keepdim=True)
        aesthetic_avg += cur_avg.item()
        num += 1
        video_results.append({"video_path": None, "video_results": cur_avg.item()})
    aesthetic_avg /= num
    return aesthetic_avg, video_results


# ---- scripts/constant.py + cal_final_score.py ------------------------------------------------------------------
DIM_WEIGHT = {
    "subject consistency": 1,
    "background consistency": 1,
    "temporal flickering": 1,
    "motion smoothness": 1,
    "aesthetic quality": 1,
    "imaging quality": 1,
    "dynamic degree": 0.5,
    "object class": 1,
    "multiple objects": 1,
    "human action": 1,
    "color": 1,
    "spatial relationship": 1,
    "scene": 1,
    "appearance style": 1,
    "temporal style": 1,
    "overall consistency": 1,
}
NORMALIZE_DIC = {
    "subject consistency": {"Min": 0.1462, "Max": 1.0},
    "background consistency": {"Min": 0.2615, "Max": 1.0},
    "temporal flickering": {"Min": 0.6293, "Max": 1.0},
    "motion smoothness": {"Min": 0.706, "Max": 0.9975},
    "dynamic degree": {"Min": 0.0, "Max": 1.0},
    "aesthetic quality": {"Min": 0.0, "Max": 1.0},
    "imaging quality": {"Min": 0.0, "Max": 1.0},
    "object class": {"Min": 0.0, "Max": 1.0},
    "multiple objects": {"Min": 0.0, "Max": 1.0},
    "human action": {"Min": 0.0, "Max": 1.0},
    "color": {"Min": 0.0, "Max": 1.0},
    "spatial relationship": {"Min": 0.0, "Max": 1.0},
    "scene": {"Min": 0.0, "Max": 0.8222},
    "appearance style": {"Min": 0.0009, "Max": 0.2855},
    "temporal style": {"Min": 0.0, "Max": 0.364},
    "overall consistency": {"Min": 0.0, "Max": 0.364},
}
QUALITY_LIST = [
    "subject consistency",
    "background consistency",
    "temporal flickering",
    "motion smoothness",
    "aesthetic quality",
    "imaging quality",
    "dynamic degree",
]


def get_nomalized_score(upload_data):
    normalized_score = {}
    for key in upload_data:
        min_val = NORMALIZE_DIC[key]["Min"]
        max_val = NORMALIZE_DIC[key]["Max"]
        normalized_score[key] = (upload_data[key] - min_val) / (max_val - min_val)
        normalized_score[key] = normalized_score[key] * DIM_WEIGHT[key]
    return normalized_score
